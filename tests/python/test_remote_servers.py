"""The remote tests' servers, tested with obstore itself: moto's S3 checks signatures and
ETags, nginx serves ranges and ETags, and FaultProxy's faults reach obstore as the network's
would. What obstore does with each fault is pinned here, because the library builds on it:

  503 (a burst)         retried with backoff; the read succeeds; after max_retries, GenericError
  reset mid-body        retried, resumed with a Range from the first byte not received; the
                        bytes are right; when every try breaks, GenericError
  body cut short        the same as a reset: never short data returned as if whole
  request never answered  with client_options timeout, a timeout, retried like the others
                        (GET is safe); with max_retries 0, GenericError after the timeout
  wrong key or secret   PermissionDeniedError (403, not retried)
  missing object        the builtin FileNotFoundError (not obstore's own NotFoundError class)
  If-Match stale        PreconditionError (412), from moto and from nginx alike"""

from __future__ import annotations

import http.client
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import obstore
import pytest
from obstore.exceptions import GenericError, NotFoundError, PermissionDeniedError, PreconditionError
from obstore.store import HTTPStore, S3Store

from remote_servers import FaultProxy, MotoS3Server, NginxServer

pytest_plugins = ["remote_fixtures"]

DATA = os.urandom(300_000)  # over a few TCP windows, so a cut lands mid-body
# Persistent faults fail fast: few retries, short backoff.
FEW_RETRIES = {"max_retries": 2, "backoff": {"init_backoff": timedelta(milliseconds=10)}}


def _new_name() -> str:
    return f"{uuid.uuid4().hex[:12]}/track.bw"


# -- moto --------------------------------------------------------------------------------------


def test_s3_range_reads_return_the_stored_bytes(s3_server: MotoS3Server, s3_bucket: str) -> None:
    s3_server.upload(DATA, s3_bucket, "track.bw")
    store = S3Store(s3_bucket, **s3_server.store_options())
    assert bytes(obstore.get_range(store, "track.bw", start=1000, end=70_000)) == DATA[1000:70_000]
    parts = obstore.get_ranges(store, "track.bw", starts=[0, 250_000], ends=[10, 300_000])
    assert [bytes(p) for p in parts] == [DATA[:10], DATA[250_000:]]
    assert obstore.head(store, "track.bw")["size"] == len(DATA)


def test_s3_upload_takes_a_local_file(s3_server: MotoS3Server, s3_bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "local.bw"
    local.write_bytes(DATA[:5000])
    s3_server.upload(local, s3_bucket, "from-file.bw")
    store = S3Store(s3_bucket, **s3_server.store_options())
    assert bytes(obstore.get(store, "from-file.bw").bytes()) == DATA[:5000]


def test_s3_refuses_unsigned_requests(s3_server: MotoS3Server, s3_bucket: str) -> None:
    s3_server.upload(b"secret", s3_bucket, "track.bw")
    connection = http.client.HTTPConnection("127.0.0.1", s3_server.port, timeout=10)
    try:
        connection.request("GET", f"/{s3_bucket}/track.bw")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 403, body


@pytest.mark.parametrize(
    ("wrong", "code"),
    [
        ({"secret_access_key": "not-the-secret"}, "SignatureDoesNotMatch"),
        ({"access_key_id": "AKIANOSUCHKEY"}, "InvalidAccessKeyId"),
    ],
)
def test_s3_wrong_credentials_raise_permission_denied(
    s3_server: MotoS3Server, s3_bucket: str, wrong: dict[str, str], code: str
) -> None:
    s3_server.upload(DATA[:100], s3_bucket, "track.bw")
    store = S3Store(s3_bucket, **{**s3_server.store_options(), **wrong})
    with pytest.raises(PermissionDeniedError, match=code):
        obstore.get_range(store, "track.bw", start=0, end=10)
    with pytest.raises(PermissionDeniedError, match="403"):
        obstore.head(store, "track.bw")


def test_s3_missing_object_raises_file_not_found(s3_server: MotoS3Server, s3_bucket: str) -> None:
    store = S3Store(s3_bucket, **s3_server.store_options())
    # obstore 0.12 raises Python's own FileNotFoundError; its NotFoundError class is another one.
    with pytest.raises(FileNotFoundError, match="NoSuchKey") as raised:
        obstore.get_range(store, "absent.bw", start=0, end=10)
    assert not isinstance(raised.value, NotFoundError)
    with pytest.raises(FileNotFoundError):
        obstore.head(store, "absent.bw")


def test_s3_deleted_object_is_gone(s3_server: MotoS3Server, s3_bucket: str) -> None:
    s3_server.upload(DATA[:100], s3_bucket, "track.bw")
    store = S3Store(s3_bucket, **s3_server.store_options())
    assert obstore.head(store, "track.bw")["size"] == 100
    s3_server.delete(s3_bucket, "track.bw")
    with pytest.raises(FileNotFoundError):
        obstore.head(store, "track.bw")


def test_s3_if_match_with_a_stale_etag_raises_precondition(s3_server: MotoS3Server, s3_bucket: str) -> None:
    first = s3_server.upload(DATA[:1000], s3_bucket, "track.bw")
    store = S3Store(s3_bucket, **s3_server.store_options())
    assert obstore.head(store, "track.bw")["e_tag"] == first
    second = s3_server.overwrite(s3_bucket, "track.bw", DATA[1000:2000])
    assert second != first
    with pytest.raises(PreconditionError, match="412"):
        obstore.get(store, "track.bw", options={"if_match": first, "range": (0, 10)})
    current = obstore.get(store, "track.bw", options={"if_match": second, "range": (0, 10)})
    assert bytes(current.bytes()) == DATA[1000:1010]


def test_s3_env_lets_an_s3store_configure_itself(s3_env: MotoS3Server, s3_bucket: str) -> None:
    s3_env.upload(DATA[:500], s3_bucket, "track.bw")
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    store = S3Store(s3_bucket)  # key, region, endpoint and allow_http from the environment alone
    assert bytes(obstore.get_range(store, "track.bw", start=100, end=200)) == DATA[100:200]


# -- nginx -------------------------------------------------------------------------------------


def _http_store(base_url: str, **options: object) -> HTTPStore:
    client_options = {"allow_http": True, **options.pop("client_options", {})}
    return HTTPStore.from_url(base_url, client_options=client_options, **options)


def test_nginx_range_reads_return_the_file_bytes(nginx_server: NginxServer) -> None:
    name = _new_name()
    nginx_server.put(name, DATA)
    store = _http_store(nginx_server.base_url)
    assert bytes(obstore.get_range(store, name, start=5, end=200_000)) == DATA[5:200_000]
    assert obstore.head(store, name)["size"] == len(DATA)


def test_nginx_missing_file_raises_file_not_found(nginx_server: NginxServer) -> None:
    store = _http_store(nginx_server.base_url)
    with pytest.raises(FileNotFoundError, match="404"):
        obstore.get_range(store, "no/such/file.bw", start=0, end=10)


def test_nginx_if_match_with_a_stale_etag_raises_precondition(nginx_server: NginxServer) -> None:
    name = _new_name()
    nginx_server.put(name, DATA[:1000])
    store = _http_store(nginx_server.base_url)
    first = obstore.head(store, name)["e_tag"]
    nginx_server.put(name, DATA[:2000])  # nginx's ETag is mtime and size: a new size, a new ETag
    second = obstore.head(store, name)["e_tag"]
    assert second != first
    with pytest.raises(PreconditionError, match="412"):
        obstore.get(store, name, options={"if_match": first, "range": (0, 10)})
    assert bytes(obstore.get(store, name, options={"if_match": second, "range": (0, 10)}).bytes()) == DATA[:10]


def test_nginx_lists_a_folder(nginx_server: NginxServer) -> None:
    name = _new_name()
    nginx_server.put(name, b"x")
    folder, file = name.split("/")
    connection = http.client.HTTPConnection("127.0.0.1", nginx_server.port, timeout=10)
    try:
        connection.request("GET", f"/{folder}/")
        response = connection.getresponse()
        listing = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200
    assert f'href="{file}"' in listing


# -- FaultProxy in front of each ---------------------------------------------------------------


@dataclass
class Proxied:
    """A file behind a FaultProxy; store(client_options=..., retry_config=...) opens an obstore
    store that reaches it through the proxy."""

    proxy: FaultProxy
    path: str
    store: Callable[..., S3Store | HTTPStore]


@pytest.fixture(params=["moto", "nginx"])
def proxied(request: pytest.FixtureRequest, fault_proxy_factory, loopback_env: None) -> Proxied:
    if request.param == "moto":
        server: MotoS3Server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        server.upload(DATA, bucket, "track.bw")
        proxy = fault_proxy_factory(server)

        def make_store(client_options: dict | None = None, **options: object) -> S3Store:
            settings = server.store_options(proxy.url)
            settings["client_options"] = {**settings["client_options"], **(client_options or {})}
            return S3Store(bucket, **settings, **options)

        return Proxied(proxy, "track.bw", make_store)
    nginx: NginxServer = request.getfixturevalue("nginx_server")
    name = _new_name()
    nginx.put(name, DATA)
    proxy = fault_proxy_factory(nginx)
    return Proxied(proxy, name, lambda **options: _http_store(proxy.url, **options))


def _read(store, path: str, start: int = 0, end: int = len(DATA)) -> bytes:
    return bytes(obstore.get_range(store, path, start=start, end=end))


def test_proxy_forwards_signed_range_requests(proxied: Proxied) -> None:
    store = proxied.store()
    starts = range(0, 300_000, 30_000)
    for start in starts:
        assert _read(store, proxied.path, start, start + 5000) == DATA[start : start + 5000]
    proxy = proxied.proxy
    assert [(r.method, r.range) for r in proxy.requests] == [("GET", f"bytes={s}-{s + 4999}") for s in starts]
    assert all(r.path.endswith(proxied.path) for r in proxy.requests)
    assert proxy.body_bytes_forwarded == len(starts) * 5000
    # obstore's pool reuses connections (not always at once: one comes back to the pool a moment
    # after its body is read, and a request made in that moment opens another).
    assert proxy.connections_accepted < proxy.requests_seen


@pytest.mark.parametrize("upstream", ["moto", "nginx"])
def test_proxy_keeps_the_client_connection_open_when_the_upstream_closes_its_own(
    request: pytest.FixtureRequest, fault_proxy_factory, upstream: str
) -> None:
    # moto (Werkzeug) closes its connection after every answer, nginx keeps it: the client's
    # connection lasts either way. Unsigned, moto's answers are 403s; nginx's a file's bytes.
    if upstream == "moto":
        server, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
        server.upload(DATA, bucket, "track.bw")
        path, status = f"/{bucket}/track.bw", 403
    else:
        server, name = request.getfixturevalue("nginx_server"), _new_name()
        server.put(name, DATA)
        path, status = f"/{name}", 206
    proxy = fault_proxy_factory(server)
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        statuses = []
        for _ in range(3):
            connection.request("GET", path, headers={"Range": "bytes=0-0"})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            assert not response.will_close
    finally:
        connection.close()
    assert statuses == [status] * 3
    assert proxy.connections_accepted == 1
    assert proxy.requests == [("GET", path, "bytes=0-0")] * 3


def test_latency_is_added_to_every_request(proxied: Proxied) -> None:
    store = proxied.store()
    _read(store, proxied.path, 0, 10)  # the connection made before the clock starts
    proxied.proxy.set_latency_ms(250)
    began = time.monotonic()
    for _ in range(3):
        _read(store, proxied.path, 0, 10)
    assert time.monotonic() - began >= 0.75


def test_a_burst_of_503s_is_retried_and_the_read_succeeds(proxied: Proxied) -> None:
    proxied.proxy.fail_next_with_503(3)
    assert _read(proxied.store(), proxied.path) == DATA
    assert proxied.proxy.requests_seen == 4
    assert proxied.proxy.pending_faults() == {}


def test_503s_beyond_max_retries_raise_generic_error(proxied: Proxied) -> None:
    proxied.proxy.fail_next_with_503(100)
    with pytest.raises(GenericError, match="503 Service Unavailable"):
        _read(proxied.store(retry_config=FEW_RETRIES), proxied.path)
    assert proxied.proxy.requests_seen == 3  # the first try and max_retries more


def _resumed_from(request_range: str) -> int:
    return int(request_range.removeprefix("bytes=").split("-")[0])


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_a_body_broken_once_is_resumed_from_where_it_broke(proxied: Proxied, fault: str) -> None:
    getattr(proxied.proxy, f"{fault}_next")(1)
    assert _read(proxied.store(), proxied.path, 1000, 300_000) == DATA[1000:300_000]
    first, resumed = proxied.proxy.requests
    assert first.range == "bytes=1000-299999"
    assert resumed.range.endswith("-299999")
    # The proxy sent half of the 299,000 bytes asked for. After a clean close the client has
    # them all and asks for the rest; an RST makes the kernel drop what it had received and
    # not yet handed on, so the retry starts somewhere up to there.
    half = 1000 + 299_000 // 2
    if fault == "truncate":
        assert _resumed_from(resumed.range) == half
    else:
        assert 1000 <= _resumed_from(resumed.range) <= half


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_a_whole_object_read_broken_once_is_resumed(proxied: Proxied, fault: str) -> None:
    getattr(proxied.proxy, f"{fault}_next")(1)
    assert bytes(obstore.get(proxied.store(), proxied.path).bytes()) == DATA
    first, resumed = proxied.proxy.requests
    assert first.range is None
    assert resumed.range.endswith(f"-{len(DATA) - 1}")
    assert 0 <= _resumed_from(resumed.range) <= len(DATA) // 2


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_a_body_broken_every_time_raises_generic_error(proxied: Proxied, fault: str) -> None:
    getattr(proxied.proxy, f"{fault}_next")(100)
    with pytest.raises(GenericError, match="request or response body error"):
        _read(proxied.store(retry_config=FEW_RETRIES), proxied.path)
    assert proxied.proxy.requests_seen == 3  # the first try and max_retries more
    # Each try got at most half of what it asked for, so the whole never came through.
    assert proxied.proxy.body_bytes_forwarded < len(DATA)


def test_a_request_stalled_once_times_out_and_is_retried(proxied: Proxied) -> None:
    proxied.proxy.stall_next(1, seconds=60)
    store = proxied.store(client_options={"timeout": "2s"})
    began = time.monotonic()
    assert _read(store, proxied.path, 0, 100) == DATA[:100]
    assert 2.0 <= time.monotonic() - began < 10
    assert proxied.proxy.requests_seen == 2


def test_a_stalled_request_without_retries_raises_within_the_timeout(proxied: Proxied) -> None:
    proxied.proxy.stall_next(100, seconds=60)
    store = proxied.store(client_options={"timeout": "2s"}, retry_config={"max_retries": 0})
    began = time.monotonic()
    with pytest.raises(GenericError, match="error sending request"):
        _read(store, proxied.path, 0, 100)
    assert 2.0 <= time.monotonic() - began < 5
    assert proxied.proxy.requests_seen == 1


# -- shutdown ----------------------------------------------------------------------------------


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=2)


def _refuses_connections(port: int) -> bool:
    try:
        _connect(port).close()
    except ConnectionRefusedError:
        return True
    return False


def test_each_server_stops_on_close(tmp_path: Path) -> None:
    moto = MotoS3Server()
    nginx = NginxServer(tmp_path)
    proxy = FaultProxy(nginx.base_url)
    proxy.stall_next(1, seconds=600)
    with _connect(proxy.port) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # stalled: close() must not wait it out
        deadline = time.monotonic() + 10
        while proxy.requests_seen == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the proxy holds the request (else close() would refuse it)
        assert proxy.pending_faults() == {}
        began = time.monotonic()
        for server in (proxy, nginx, moto):
            server.close()
            server.close()  # twice is harmless
        assert time.monotonic() - began < 15
        assert client.recv(1) == b""  # the stalled connection was closed
    assert not moto.running and not nginx.running
    assert all(_refuses_connections(port) for port in (moto.port, nginx.port, proxy.port))
