"""FaultProxy: an HTTP/1.1 reverse proxy on 127.0.0.1 that forwards each request's bytes
unchanged to one upstream (moto or nginx) and, when told, breaks the answer the ways networks
and object stores do: latency, 503 bursts, a connection reset in the middle of a body, a body
cut short under its Content-Length, a request never answered.

The request goes upstream byte for byte, Host header included: an S3 client signs for the
proxy's host:port, and moto checks the signature against that same Host, so signed requests
validate through the proxy. Each client connection gets its own upstream connection; the
client's stays open across requests even when the upstream closes its own after each answer
(moto's Werkzeug does), so a client's connection pool is exercised as against a real store.
Responses are read whole from upstream before the client gets a byte (the test objects are
small): a fault then knows the body it cuts."""

from __future__ import annotations

import socket
import struct
import threading
from typing import BinaryIO, NamedTuple
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"

_S3_503_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>ServiceUnavailable</Code><Message>Service Unavailable (FaultProxy)</Message>"
    b"<RequestId>fault-proxy</RequestId></Error>"
)
_PLAIN_503_BODY = b"Service Unavailable (FaultProxy)\n"


class ProxiedRequest(NamedTuple):
    method: str
    path: str
    range: str | None


class _Message(NamedTuple):
    head: bytes  # start line and headers, through the blank line
    start_line: str
    headers: dict[str, str]  # lower-cased names; the last of repeated ones
    body: bytes  # as it came on the wire (chunked stays chunked)


class _UpstreamGone(Exception):
    pass


def _read_head(reader: BinaryIO) -> tuple[bytes, str, dict[str, str]] | None:
    """The start line and headers; None when the peer closed before sending any."""
    lines = []
    while True:
        line = reader.readline(65537)
        if not line:
            if lines:
                raise ConnectionError("connection closed inside a message head")
            return None
        if not lines and line in (b"\r\n", b"\n"):
            continue  # a stray empty line between messages (RFC 9112 allows ignoring it)
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    headers = {}
    for line in lines[1:-1]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return b"".join(lines), lines[0].decode("latin-1").rstrip("\r\n"), headers


def _read_exactly(reader: BinaryIO, n: int) -> bytes:
    data = reader.read(n)
    if len(data) != n:
        raise ConnectionError(f"connection closed after {len(data)} of {n} body bytes")
    return data


def _read_chunked(reader: BinaryIO) -> bytes:
    """A chunked body with its framing and trailers, as sent, to be forwarded as it is."""
    raw = []
    while True:
        size_line = reader.readline(65537)
        if not size_line:
            raise ConnectionError("connection closed inside a chunked body")
        raw.append(size_line)
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:  # trailers, through the blank line
                line = reader.readline(65537)
                if not line:
                    raise ConnectionError("connection closed inside chunked trailers")
                raw.append(line)
                if line in (b"\r\n", b"\n"):
                    return b"".join(raw)
        raw.append(_read_exactly(reader, size + 2))  # the data and its CRLF


def _read_body(reader: BinaryIO, headers: dict[str, str], to_eof_allowed: bool) -> tuple[bytes, bool]:
    """(body, read to EOF): by chunked framing, by Content-Length, else (responses only) to EOF."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(reader), False
    if "content-length" in headers:
        return _read_exactly(reader, int(headers["content-length"])), False
    if to_eof_allowed:
        return reader.read(), True
    return b"", False


def _keep_alive_head(head: bytes, body_length: int, framed: bool) -> bytes:
    """The response head with its Connection header taken out, and a Content-Length put in
    when the upstream marked the body's end by closing: the client's connection then stays open
    whatever the upstream does with its own (Werkzeug, under moto, closes after every answer)."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines[:-2] if not line.lower().startswith(b"connection:")]
    if not framed:
        kept.append(b"Content-Length: %d" % body_length)
    return b"\r\n".join(kept) + b"\r\n\r\n"


def _wants_close(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    return "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)


class FaultProxy:
    """``FaultProxy("http://127.0.0.1:9000", s3_errors=True)``; clients use ``proxy.url``.

    The fault setters apply to the next ``n`` requests that reach the proxy (of ``method`` only,
    when given), in this order of precedence when several are pending: stall, 503, reset,
    truncate. Latency applies to every request. Each setter is safe to call from any thread
    while requests run."""

    def __init__(self, upstream: str, *, s3_errors: bool = False) -> None:
        parts = urlsplit(upstream)
        if parts.hostname != LOOPBACK or parts.scheme != "http":
            raise ValueError(f"FaultProxy forwards to http://{LOOPBACK} only, not {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self._s3_errors = s3_errors
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._latency_s = 0.0
        self._pending: dict[str, list] = {}  # fault -> [count, method or None]
        self._stall_seconds = 0.0
        self._requests: list[ProxiedRequest] = []
        self._request_headers: list[dict[str, str]] = []
        self._body_bytes = 0
        self._connections = 0
        self._client_sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.1)  # the accept loop looks at _stopping this often
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._accepting = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._accepting.start()

    # -- configuration -----------------------------------------------------------------------

    def set_latency_ms(self, ms: float) -> None:
        """Added once per request, before it goes upstream (0: none)."""
        with self._lock:
            self._latency_s = ms / 1000.0

    def fail_next_with_503(self, n: int, *, method: str | None = None) -> None:
        """The next n responses become 503 Service Unavailable (S3's XML error body when the
        proxy was made with s3_errors=True, plain text otherwise); the request never goes
        upstream and the connection stays open."""
        self._set_pending("503", n, method)

    def reset_next(self, n: int, *, method: str | None = None) -> None:
        """The next n responses send their head and half their body, then a TCP RST."""
        self._set_pending("reset", n, method)

    def truncate_next(self, n: int, *, method: str | None = None) -> None:
        """The next n responses send their head (Content-Length as it was) and half their body,
        then close the connection cleanly (FIN): a body that ends early without an error."""
        self._set_pending("truncate", n, method)

    def stall_next(self, n: int, seconds: float, *, method: str | None = None) -> None:
        """The next n requests are read and never answered; after `seconds` (or at close())
        their connection is closed."""
        with self._lock:
            self._stall_seconds = seconds
        self._set_pending("stall", n, method)

    def clear_faults(self) -> None:
        with self._lock:
            self._pending.clear()
            self._latency_s = 0.0

    def pending_faults(self) -> dict[str, int]:
        """Faults set and not yet applied, by kind ('stall', '503', 'reset', 'truncate')."""
        with self._lock:
            return {kind: count for kind, (count, _) in self._pending.items() if count > 0}

    def _set_pending(self, kind: str, n: int, method: str | None) -> None:
        with self._lock:
            self._pending[kind] = [n, method.upper() if method else None]

    def _take_fault(self, method: str) -> str | None:
        with self._lock:
            for kind in ("stall", "503", "reset", "truncate"):
                count, only = self._pending.get(kind, (0, None))
                if count > 0 and only in (None, method):
                    self._pending[kind][0] -= 1
                    return kind
        return None

    # -- counters ----------------------------------------------------------------------------

    @property
    def requests_seen(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def requests(self) -> list[ProxiedRequest]:
        """(method, path, Range header or None) of every request, in the order they came."""
        with self._lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        """The headers (names lower-cased) of every request, in the same order as requests."""
        with self._lock:
            return [dict(headers) for headers in self._request_headers]

    @property
    def body_bytes_forwarded(self) -> int:
        """Response body bytes sent to clients (cut bodies count what was sent); counted as
        they are handed to the socket, so a client that has its bytes sees them counted."""
        with self._lock:
            return self._body_bytes

    @property
    def connections_accepted(self) -> int:
        """Client connections so far: fewer than requests_seen when clients keep them alive."""
        with self._lock:
            return self._connections

    # -- serving -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener closed
            client.settimeout(None)
            with self._lock:
                if self._stopping.is_set():
                    client.close()
                    return
                self._connections += 1
                self._client_sockets.add(client)
                thread = threading.Thread(target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True)
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        upstream_reader: BinaryIO | None = None
        try:
            with client, client.makefile("rb") as client_reader:
                while not self._stopping.is_set():
                    request = self._read_request(client_reader)
                    if request is None:
                        return
                    method = request.start_line.split(" ", 1)[0].upper()
                    with self._lock:
                        path = request.start_line.split(" ")[1]
                        self._requests.append(ProxiedRequest(method, path, request.headers.get("range")))
                        self._request_headers.append(dict(request.headers))
                        latency = self._latency_s
                        stall_seconds = self._stall_seconds
                    fault = self._take_fault(method)
                    if fault == "stall":
                        self._stopping.wait(stall_seconds)
                        return
                    if latency:
                        self._stopping.wait(latency)
                    if fault == "503":
                        client.sendall(self._service_unavailable())
                        continue
                    if upstream is None:
                        upstream = socket.create_connection(self._upstream, timeout=60)
                        upstream_reader = upstream.makefile("rb")
                    try:
                        response, upstream_closes = self._exchange(upstream, upstream_reader, request, method)
                    except (OSError, _UpstreamGone):
                        upstream_reader.close()
                        upstream.close()
                        upstream, upstream_reader = None, None
                        client.sendall(self._bad_gateway())
                        return
                    if upstream_closes:
                        upstream_reader.close()
                        upstream.close()
                        upstream, upstream_reader = None, None
                    if fault in ("reset", "truncate"):
                        self._send_cut(client, response, reset=fault == "reset")
                        return
                    self._count_body(len(response.body))  # before: the client may act on it at once
                    client.sendall(response.head + response.body)
                    if _wants_close(request.start_line.rsplit(" ", 1)[-1], request.headers):
                        return
        except OSError:
            return  # the client went away, or close() shut its socket
        finally:
            if upstream is not None:
                upstream_reader.close()
                upstream.close()
            with self._lock:
                self._client_sockets.discard(client)

    def _read_request(self, reader: BinaryIO) -> _Message | None:
        read = _read_head(reader)
        if read is None:
            return None
        head, start_line, headers = read
        body, _ = _read_body(reader, headers, to_eof_allowed=False)
        return _Message(head, start_line, headers, body)

    def _exchange(self, upstream: socket.socket, reader: BinaryIO, request: _Message, method: str):
        upstream.sendall(request.head + request.body)
        while True:
            read = _read_head(reader)
            if read is None:
                raise _UpstreamGone("upstream closed before answering")
            head, status_line, headers = read
            version, status = status_line.split(" ", 2)[:2]
            if not (100 <= int(status) < 200):
                break  # 1xx interim answers are read past (none of our clients asks for one)
        if method == "HEAD" or int(status) in (204, 304):
            body, to_eof = b"", False
        else:
            body, to_eof = _read_body(reader, headers, to_eof_allowed=True)
        head = _keep_alive_head(head, len(body), framed=not to_eof)
        return _Message(head, status_line, headers, body), to_eof or _wants_close(version, headers)

    def _send_cut(self, client: socket.socket, response: _Message, *, reset: bool) -> None:
        sent = response.body[: len(response.body) // 2]
        self._count_body(len(sent))
        client.sendall(response.head + sent)
        if reset:
            # Linger on, timeout 0: close() sends RST at once instead of FIN.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            client.shutdown(socket.SHUT_WR)

    def _count_body(self, n: int) -> None:
        with self._lock:
            self._body_bytes += n

    def _service_unavailable(self) -> bytes:
        body, kind = (_S3_503_BODY, "application/xml") if self._s3_errors else (_PLAIN_503_BODY, "text/plain")
        head = (
            f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        return head + body

    def _bad_gateway(self) -> bytes:
        body = b"upstream unreachable (FaultProxy)\n"
        return f"HTTP/1.1 502 Bad Gateway\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body

    # -- shutdown ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stops accepting, ends stalls at once, shuts every client connection; returns when
        the proxy's threads have ended."""
        self._stopping.set()
        self._accepting.join()
        self._listener.close()
        with self._lock:
            clients = list(self._client_sockets)
            threads = list(self._threads)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
