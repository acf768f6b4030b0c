"""A local mirror of recorded depositary pages, served on loopback under the sites' own paths.

Used by the tests, the benchmarks and the demo: the spider is pointed at the mirror through its
configurable base URL and never touches the real site. A mirror is a folder with `manifest.json`
mapping each path-and-query to a file and a content type. The server answers conditional
requests (ETag / Last-Modified -> 304) and keeps connections open between requests (HTTP/1.1),
like a well-behaved site; once stopped it answers nothing more, on no connection.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

MANIFEST = "manifest.json"
DEFAULT_ROBOTS = b"User-agent: *\nDisallow: /doc/Treaties/\n"


def normalize_target(target: str) -> str:
    """Path plus query with parameters sorted and keys lower-cased, for tolerant lookup."""
    parts = urlsplit(target)
    query = sorted((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return parts.path + ("?" + urlencode(query) if query else "")


@dataclass
class Mirror:
    """A folder of recorded pages addressed by path-and-query."""

    root: Path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / MANIFEST
        self.entries: dict[str, dict[str, str]] = (
            json.loads(path.read_text()) if path.exists() else {}
        )

    def add(self, target: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> Path:
        """Record `body` as the answer to `target` (e.g. "/Pages/ViewDetails.aspx?...")."""
        key = normalize_target(target)
        name = hashlib.sha256(key.encode()).hexdigest()[:24]
        file = self.root / "pages" / name
        file.parent.mkdir(exist_ok=True)
        file.write_bytes(body)
        self.entries[key] = {
            "file": f"pages/{name}",
            "content_type": content_type,
            "target": target,
        }
        return file

    def save(self) -> None:
        (self.root / MANIFEST).write_text(json.dumps(self.entries, indent=1, sort_keys=True))

    def lookup(self, target: str) -> tuple[Path, str] | None:
        entry = self.entries.get(normalize_target(target))
        if entry is None:
            return None
        return self.root / entry["file"], entry["content_type"]


# A test's own answer for one target: called with the request handler (which has `recorded()`
# for the recorded page's body and content type); returns True when it answered, False to let
# the mirror answer as usual (e.g. after a side effect such as cutting a database connection).
Responder = Callable[[BaseHTTPRequestHandler], bool]


def build_mirror(root: Path, site: Iterable[tuple[str, bytes, str]]) -> Mirror:
    """Write a mirror of `site`'s pages (target, body, content type), e.g. a source's
    `untc_site(pages)` (tracker.sources.untc.mirror), and save its index."""
    mirror = Mirror(root)
    for target, body, content_type in site:
        mirror.add(target, body, content_type)
    mirror.save()
    return mirror


def _handler(
    mirror: Mirror, log: list[str], responders: dict[str, Responder]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tracker-mirror/1"
        protocol_version = "HTTP/1.1"  # persistent connections; every answer of ours is framed

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.append(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}")

        def recorded(self) -> tuple[bytes, str] | None:
            found = mirror.lookup(self.path)
            return (found[0].read_bytes(), found[1]) if found else None

        def do_GET(self) -> None:  # noqa: N802
            responder = responders.get(normalize_target(self.path)) or responders.get("*")
            if responder is not None and responder(self):
                self.close_connection = True  # a test's own answer frames itself: end with it
                return
            if urlsplit(self.path).path == "/robots.txt" and mirror.lookup(self.path) is None:
                return self._send(HTTPStatus.OK, DEFAULT_ROBOTS, "text/plain", None, None)
            found = mirror.lookup(self.path)
            if found is None:
                return self._send(
                    HTTPStatus.NOT_FOUND, b"not in mirror\n", "text/plain", None, None
                )
            file, content_type = found
            body = file.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
            if self.headers.get("If-None-Match") == etag:
                return self._send(HTTPStatus.NOT_MODIFIED, b"", content_type, etag, modified)
            self._send(HTTPStatus.OK, body, content_type, etag, modified)

        def _send(
            self,
            status: HTTPStatus,
            body: bytes,
            ctype: str,
            etag: str | None,
            modified: str | None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified or "")
                self.send_header("Cache-Control", "no-cache")
            if status != HTTPStatus.NOT_MODIFIED:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != HTTPStatus.NOT_MODIFIED:
                self.wfile.write(body)

    return Handler


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, to cut them when it stops
    (a kept-alive connection would otherwise go on being answered by its handler thread)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.open: set[socket.socket] = set()
        self.accepted = 0  # connections, over the server's life
        self.lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        with self.lock:
            self.open.add(sock)
            self.accepted += 1
        return sock, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self.lock:
            connections = list(self.open)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already gone
                pass


class MirrorServer:
    """Serve a mirror on 127.0.0.1 in a background thread; `base_url` points the spider at it."""

    def __init__(self, mirror: Mirror, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[str] = []
        # Tests may answer some targets themselves (faults): normalized target, or "*" for all.
        self.responders: dict[str, Responder] = {}
        self.httpd = _Server((host, port), _handler(mirror, self.requests, self.responders))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, target: str, responder: Responder | None) -> None:
        """Answer `target` (path and query, or "*") with `responder`; None restores the mirror."""
        key = target if target == "*" else normalize_target(target)
        if responder is None:
            self.responders.pop(key, None)
        else:
            self.responders[key] = responder

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MirrorServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.cut_connections()
        self.httpd.server_close()


@contextmanager
def serve(mirror: Mirror, host: str = "127.0.0.1", port: int = 0) -> Iterator[MirrorServer]:
    """Serve `mirror` for the duration of the block."""
    server = MirrorServer(mirror, host, port).start()
    try:
        yield server
    finally:
        server.stop()
