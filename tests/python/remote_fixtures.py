"""Fixtures for the remote-reading tests (a pytest plugin: conftest.py names it in
pytest_plugins): one moto S3 and one nginx per session, FaultProxies per test, and an
environment in which no client can reach past 127.0.0.1."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remote_servers import FaultProxy, MotoS3Server, NginxServer

# Proxy settings a client would follow off the machine; the cloud SDKs' own sources of
# credentials and endpoints, which must not mix with the test server's.
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_OTHER_AWS_VARIABLES = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT",
    "AWS_BUCKET",
    "AWS_BUCKET_NAME",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
)

_bucket_numbers = itertools.count()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3Server]:
    """moto's S3 on 127.0.0.1; requests must be signed with its access_key_id/secret_access_key."""
    with MotoS3Server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: MotoS3Server) -> str:
    """A new, empty bucket on s3_server, its own to each test."""
    name = f"bwl-test-{next(_bucket_numbers)}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture(scope="session")
def nginx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    """nginx serving a temporary folder (nginx_server.root; nginx_server.put writes a file there)."""
    with NginxServer(tmp_path_factory.mktemp("nginx-root")) as server:
        yield server


@pytest.fixture
def fault_proxy_factory() -> Iterator[Callable[..., FaultProxy]]:
    """make(upstream) -> a FaultProxy in front of upstream (an MotoS3Server, an NginxServer, or a
    http://127.0.0.1 URL), with S3's XML 503s in front of moto; each closed after the test."""
    proxies: list[FaultProxy] = []

    def make(upstream: MotoS3Server | NginxServer | str) -> FaultProxy:
        if isinstance(upstream, MotoS3Server):
            proxy = FaultProxy(upstream.endpoint_url, s3_errors=True)
        elif isinstance(upstream, NginxServer):
            proxy = FaultProxy(upstream.base_url)
        else:
            proxy = FaultProxy(upstream)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def loopback_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy settings: a client reading them would send loopback traffic elsewhere."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, loopback_env: None, s3_server: MotoS3Server) -> MotoS3Server:
    """The environment an S3 client configures itself from, pointing at s3_server: its key,
    region and endpoint, plain HTTP allowed, and the instance-metadata lookup (169.254.169.254)
    turned off, so that no client ever goes looking for cloud credentials."""
    for name in _OTHER_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    monkeypatch.setenv("AWS_REGION", s3_server.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Files a boto-style client would read credentials from: none.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(Path("/nonexistent/bwl-tests/credentials")))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(Path("/nonexistent/bwl-tests/config")))
    return s3_server
