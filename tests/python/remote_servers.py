"""Real servers on 127.0.0.1 for the remote-reading tests, started and stopped by the tests
themselves: moto's S3 (signatures checked), nginx serving a folder, and FaultProxy, our own
HTTP/1.1 proxy that puts latency, 503s, cut-off bodies and stalls in front of either.

Nothing here imports pytest (remote_fixtures.py wraps these in fixtures), and nothing sends a
byte to any address but 127.0.0.1: no client here reads the proxy settings of the environment.
Every server stops on close(), and through a finalizer when a failing test never calls it."""

from __future__ import annotations

import grp
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from fault_proxy import FaultProxy, ProxiedRequest

LOOPBACK = "127.0.0.1"
__all__ = ["FaultProxy", "MotoS3Server", "NginxServer", "ProxiedRequest", "LOOPBACK"]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 30.0) -> None:
    """Returns once something accepts on 127.0.0.1:port; raises (with the server's log) when the
    process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {LOOPBACK}:{port} within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, chars: int = 4000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _stop_process(process: subprocess.Popen, stop_signal: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stops a server this module started (its own process group, from start_new_session): the
    polite signal first, then SIGKILL to the group, so no worker outlives its master."""
    if process.poll() is None:
        try:
            process.send_signal(stop_signal)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group is ours: start_new_session made it
    except ProcessLookupError:
        pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _finalize_cleanup(process: subprocess.Popen, directory: str, stop_signal: int) -> None:
    _stop_process(process, stop_signal)
    shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# moto's S3


# Runs in the child: moto's server on a port the kernel picks, the port written on stdout. The
# child reads stdin until its end closes, which happens when the parent exits in any way (even
# SIGKILL), so the server never outlives the tests.
_MOTO_CHILD = """
import sys
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

_S3_ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


class MotoS3Server:
    """moto's S3 on 127.0.0.1, authentication enforced: every request must be signed with
    ``access_key_id``/``secret_access_key`` (an IAM user's key with s3:* allowed), else 403.

    The setup (user, key, policy) runs while moto still lets unauthenticated requests through;
    then /moto-api/reset-auth sets moto's INITIAL_NO_AUTH_ACTION_COUNT to 0, the same switch as
    the environment variable, so from there on every request is checked. Setting it at runtime
    spares counting how many requests the setup takes."""

    region = "us-east-1"

    def __init__(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="bwl-moto-")
        self._log = Path(self._directory) / "moto.log"
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _MOTO_CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        self._finalizer = weakref.finalize(self, _finalize_cleanup, self._process, self._directory, signal.SIGTERM)
        try:
            port_line = self._process.stdout.readline()
            if not port_line.strip().isdigit():
                raise RuntimeError(f"moto did not start:\n{_tail(self._log)}")
            self.port = int(port_line)
            self.endpoint_url = f"http://{LOOPBACK}:{self.port}"
            self.access_key_id, self.secret_access_key = self._create_key_allowed_s3()
            self._enforce_authentication()
            self._s3 = self.s3_client(self.access_key_id, self.secret_access_key)
        except BaseException:
            self.close()
            raise

    def _create_key_allowed_s3(self) -> tuple[str, str]:
        iam = self._client("iam", "setup", "setup")
        iam.create_user(UserName="bwl-tests")
        iam.put_user_policy(UserName="bwl-tests", PolicyName="s3-all", PolicyDocument=_S3_ALLOW_ALL)
        key = iam.create_access_key(UserName="bwl-tests")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def _enforce_authentication(self) -> None:
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=10)
        try:
            connection.request("POST", "/moto-api/reset-auth", body=b"0")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"moto refused reset-auth: {response.status} {body!r}")

    def _client(self, service: str, key_id: str, secret: str):
        import boto3  # with moto; imported here so that importing this module stays cheap
        from botocore.config import Config

        config = Config(
            proxies={},  # not None: botocore would read HTTP(S)_PROXY, and the traffic stays on loopback
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
        )
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=config,
        )

    def s3_client(self, key_id: str, secret: str):
        """A boto3 S3 client signing with the given key (a wrong one, to see moto refuse it)."""
        return self._client("s3", key_id, secret)

    def store_options(self, endpoint: str | None = None) -> dict[str, object]:
        """Keyword arguments for obstore.store.S3Store(bucket, **these): this server's key, or
        another endpoint in front of it (a FaultProxy's url)."""
        return {
            "endpoint": endpoint or self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
            "client_options": {"allow_http": True},
        }

    def create_bucket(self, name: str) -> None:
        self._s3.create_bucket(Bucket=name)

    def upload(self, source: Path | str | bytes, bucket: str, key: str) -> str:
        """Puts a local file (a path) or bytes at bucket/key; returns the new object's ETag."""
        body = source if isinstance(source, bytes) else Path(source).read_bytes()
        return self._s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]

    def overwrite(self, bucket: str, key: str, data: bytes) -> str:
        """Replaces the object (a new ETag, as when a file changes while it is read)."""
        return self.upload(data, bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        self._s3.delete_object(Bucket=bucket, Key=key)

    def close(self) -> None:
        self._finalizer()  # closing stdin ends the child; the finalizer also signals it

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def __enter__(self) -> MotoS3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# nginx


NGINX = "/usr/sbin/nginx"

_NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    keepalive_requests 10000;
    server {{
        listen {host}:{port};
        root {root};
        # A folder's listing, for URLs that name a directory. Range requests and ETags are
        # nginx's defaults for static files; etag is said here for the reader.
        autoindex on;
        etag on;
    }}
}}
"""


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM when the test process dies, even by
    SIGKILL, when no finalizer runs (PR_SET_PDEATHSIG; Linux, which these tests run on)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class NginxServer:
    """/usr/sbin/nginx serving ``root`` on 127.0.0.1 (ranges, ETags, directory listings), its
    configuration, pid file, logs and temporary files all in a folder of its own.

    As root nginx would hand its worker to 'nobody', who cannot read a test's 0700 temporary
    folders: so the worker stays the user that runs the tests. nginx cannot take port 0, so
    the port is picked free first and, when another process takes it in between, picked again."""

    def __init__(self, root: Path | str, attempts: int = 5) -> None:
        self.root = Path(root).resolve()
        self._directory = tempfile.mkdtemp(prefix="bwl-nginx-")
        self._finalizer = None
        for attempt in range(attempts):
            try:
                self._start(_free_port())
                return
            except RuntimeError:
                if attempt == attempts - 1 or "Address already in use" not in _tail(self._log):
                    shutil.rmtree(self._directory, ignore_errors=True)
                    raise

    def _start(self, port: int) -> None:
        directory = self._directory
        user = ""
        if os.geteuid() == 0:
            user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
        conf = Path(directory) / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(user=user, dir=directory, host=LOOPBACK, port=port, root=self.root))
        self._log = Path(directory) / "error.log"
        self._log.write_text("")
        with open(Path(directory) / "stderr.log", "wb") as stderr:
            process = subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", directory, "-e", str(self._log)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            _wait_for_port(port, process, "nginx", self._log)
        except RuntimeError:
            _stop_process(process, signal.SIGTERM)
            raise
        self._process = process
        self.port = port
        self.base_url = f"http://{LOOPBACK}:{port}"
        # SIGTERM: nginx's fast shutdown (SIGQUIT would wait for keep-alive clients).
        self._finalizer = weakref.finalize(self, _finalize_cleanup, process, directory, signal.SIGTERM)

    def url(self, relative: str) -> str:
        return f"{self.base_url}/{relative.lstrip('/')}"

    def put(self, relative: str, data: bytes) -> str:
        """Writes data at root/relative (folders made); returns its URL."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.url(relative)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def __enter__(self) -> NginxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
