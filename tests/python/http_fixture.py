"""A local HTTP server for the download tests: serves files from memory on 127.0.0.1 only,
honours Range requests (or ignores them when told to), and can break a transfer off after a
given number of bytes, the way a dropped connection does."""

from __future__ import annotations

import http.server
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Served:
    files: dict[str, bytes] = field(default_factory=dict)
    #: Path -> bytes after which the next response for it is cut off (used once).
    cut_after: dict[str, int] = field(default_factory=dict)
    honour_ranges: bool = True
    #: (path, Range header or None) of every request, in order.
    requests: list[tuple[str, str | None]] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    served: Served

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        served = self.served
        header = self.headers.get("Range")
        served.requests.append((self.path, header))
        body = served.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        first = 0
        if header and served.honour_ranges:
            first = int(header.removeprefix("bytes=").split("-")[0])
            if first >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        part = body[first:]
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        cut = served.cut_after.pop(self.path, None)
        self.wfile.write(part if cut is None else part[:cut])
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class LocalServer:
    """``with LocalServer() as server: server.url("/a.bw")``; files in ``server.served``."""

    def __init__(self) -> None:
        self.served = Served()
        handler = type("Handler", (_Handler,), {"served": self.served})
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def closed_port_url(path: str) -> str:
    """A URL on 127.0.0.1 where nothing listens: what a machine without network sees."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
