"""A hostile UNTC mirror: a real HTTP server on 127.0.0.1 whose every path can be switched, at run
time, to answer a fault.

The site serves what `tracker.sources.untc.mirror` builds for the recorded-page mirror (the catalogue
index, one chapter page per chapter, the ViewDetails status pages) under UNTC's own paths, plus
`/robots.txt`. Its good answers are those of a well-behaved server: `Content-Length`, validators
(`ETag` and `Last-Modified`, `Last-Modified` only, or none: per path) and 304 on a matching
conditional request.

A fault replaces the answer of one path (`site.inject(treaty_or_target, fault)`), of every path
(`site.inject_everywhere(fault)`; robots.txt keeps answering, as a front server does when the
application behind it is down) or of the listener itself (`site.refuse()`: the port is closed,
so connections are refused; `site.listen()` opens it again on the same port). Faults that
HTTP libraries cannot produce are written on the raw socket: a reset in the middle of the body
(SO_LINGER 0, so the peer gets an RST), a body shorter than its Content-Length, an accepted
connection that never answers, a connection closed without an answer.

Every request is logged (`site.hits`) with its arrival time, headers and what was answered, so
tests can check what the crawler really asked (conditional requests, retries and their delays).
"""

from __future__ import annotations

import email.utils
import hashlib
import http
import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from tracker.devtools.mirror import normalize_target
from tracker.sources.untc.mirror import catalogue_pages
from tracker.sources.untc.urls import status_page_url

ROBOTS_ALLOW = b"User-agent: *\nDisallow:\n"
ROBOTS_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
HTML = "text/html; charset=utf-8"
_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: Last-Modified of version 1 of every page
_LOCAL = "http://127.0.0.1"
_HOP = "hop"  # query parameter the redirect faults add (ignored when looking a path up)
HANG_LIMIT = 30.0  # seconds an accept-and-hang connection is held at most


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def lookup_key(target: str) -> str:
    """The path-and-query a fault or a page is filed under (normalized, without `hop`)."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != _HOP]
    return normalize_target(parts.path + ("?" + urlencode(query) if query else ""))


def status_target(treaty: str) -> str:
    return _target(status_page_url(_LOCAL, treaty))


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# --- requests and the log ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as it arrived (header names lower-cased)."""

    method: str
    target: str
    headers: Mapping[str, str]

    @property
    def key(self) -> str:
        return lookup_key(self.target)

    @property
    def query(self) -> dict[str, str]:
        return {k.lower(): v for k, v in parse_qsl(urlsplit(self.target).query)}

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers

    @property
    def treaty(self) -> str | None:
        return self.query.get("mtdsg_no")


@dataclass
class Hit:
    """A logged request: when it came (time.monotonic()), what it was, what it got."""

    at: float
    request: Request
    answer: str = "?"

    @property
    def target(self) -> str:
        return self.request.target

    @property
    def treaty(self) -> str | None:
        return self.request.treaty


# --- the socket -------------------------------------------------------------------------------


class Conn:
    """One accepted connection; faults write to it directly."""

    def __init__(self, sock: socket.socket, site: HostileSite) -> None:
        self.sock = sock
        self.site = site
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def head(self, status: int, headers: Iterable[tuple[str, str]], length: int | None) -> None:
        """The status line and headers (`length` None: no Content-Length, the close ends it)."""
        phrase = (
            http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
        )
        lines = [
            f"HTTP/1.1 {status} {phrase}",
            "Server: hostile-untc/1",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            "Connection: close",
        ]
        lines += [f"{k}: {v}" for k, v in headers]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def answer(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str | None = HTML,
    ) -> None:
        hdrs = list(headers)
        if content_type and status != 304:
            hdrs.insert(0, ("Content-Type", content_type))
        self.head(status, hdrs, None if status == 304 else len(body))
        if status != 304 and body:
            self.send(body)

    def reset(self) -> None:
        """Close with an RST instead of a FIN (the peer sees ECONNRESET)."""
        if self.closed:
            return
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def wait_for_peer_close(self, limit: float) -> None:
        """Hold the connection open, answering nothing, until the peer goes or `limit` passes."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self.site.stopping.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready:
                try:
                    if not self.sock.recv(65536):
                        return
                except OSError:
                    return


# --- resources --------------------------------------------------------------------------------


@dataclass
class Resource:
    """A good answer: body, type and which validators the server sends for it."""

    body: bytes
    content_type: str = HTML
    validators: str = "etag"  # "etag" (ETag and Last-Modified), "last-modified", "none"
    version: int = 1  # Last-Modified moves one second per new body

    @property
    def etag(self) -> str:
        return etag_of(self.body)

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(_EPOCH + self.version, usegmt=True)

    def validator_headers(self, etag: str | None = None) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.validators == "etag":
            found.append(("ETag", etag or self.etag))
        if self.validators in ("etag", "last-modified"):
            found.append(("Last-Modified", self.last_modified))
        if found:
            found.append(("Cache-Control", "no-cache"))
        return found

    def not_modified(self, req: Request) -> bool:
        """Whether a well-behaved server answers 304 to `req` for this resource."""
        if self.validators == "etag" and "if-none-match" in req.headers:
            tags = [t.strip() for t in req.headers["if-none-match"].split(",")]
            return self.etag in tags or "*" in tags
        if self.validators in ("etag", "last-modified") and "if-modified-since" in req.headers:
            since = email.utils.parsedate_to_datetime(req.headers["if-modified-since"])
            return since is not None and since.timestamp() >= _EPOCH + self.version
        return False


def serve_good(conn: Conn, req: Request, res: Resource) -> str:
    if res.not_modified(req):
        conn.answer(304, headers=res.validator_headers())
        return "304"
    conn.answer(200, res.body, res.validator_headers(), res.content_type)
    return "200"


# --- faults -----------------------------------------------------------------------------------


class Fault:
    """How one path answers instead of its good resource. `times`: after that many requests the
    path answers well again (None: until restored)."""

    name = "fault"

    def __init__(self, times: int | None = None) -> None:
        self.times = times
        self.served = 0

    def spent(self) -> bool:
        return self.times is not None and self.served >= self.times

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Status(Fault):
    """An HTTP error (5xx, 429...), optionally with Retry-After."""

    def __init__(
        self,
        code: int,
        retry_after: float | str | None = None,
        body: bytes = b"<html><body><h1>Service Unavailable</h1></body></html>",
        times: int | None = None,
    ) -> None:
        super().__init__(times)
        self.code, self.retry_after, self.body = code, retry_after, body
        self.name = f"{code}" + (f"+Retry-After:{retry_after}" if retry_after is not None else "")

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        headers = [("Retry-After", str(self.retry_after))] if self.retry_after is not None else []
        conn.answer(self.code, self.body, headers)
        return str(self.code)


class Body(Fault):
    """200 with another body (maintenance page, wrong page...), with the good page's validators
    unless told otherwise."""

    def __init__(
        self,
        body: bytes | Callable[[bytes], bytes],
        content_type: str | None = HTML,
        name: str = "body",
        headers: Iterable[tuple[str, str]] = (),
        validators: bool = True,
        times: int | None = None,
    ) -> None:
        super().__init__(times)
        self.body, self.content_type, self.name = body, content_type, name
        self.headers, self.validators = list(headers), validators

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        body = self.body(good.body if good else b"") if callable(self.body) else self.body
        res = Resource(
            body,
            self.content_type or "",
            good.validators if good else "etag",
            good.version + 1 if good else 1,
        )
        if self.validators and res.not_modified(req):
            conn.answer(304, headers=res.validator_headers())
            return "304"
        headers = (res.validator_headers() if self.validators else []) + self.headers
        conn.answer(200, body, headers, self.content_type)
        return "200"


class EmptyWithEtag(Fault):
    """200 with an empty body that carries the good page's validator (ETag and Last-Modified):
    cached, it would make a later, correct 304 re-serve nothing."""

    name = "empty-200-with-etag"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        conn.answer(200, b"", good.validator_headers())
        return "200-empty"


class NotModifiedOtherEtag(Fault):
    """304 to every conditional request, carrying an ETag the client never had (RFC 9111 4.3.4:
    a 304 whose strong validator matches no stored response must not freshen any)."""

    name = "304-other-etag"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        if req.conditional:
            conn.answer(
                304, headers=[("ETag", '"not-the-one-you-have"'), ("Cache-Control", "no-cache")]
            )
            return "304-other-etag"
        return serve_good(conn, req, good)


class Hang(Fault):
    """Accept, read the request, never answer (until the client gives up or HANG_LIMIT)."""

    name = "hang"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        conn.wait_for_peer_close(HANG_LIMIT)
        return "hung"


class CloseWithoutAnswer(Fault):
    """Read the request, then close the connection cleanly without a byte of answer."""

    name = "close-without-answer"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        conn.close()
        return "closed"


class Reset(Fault):
    """Headers with the full Content-Length, part of the body, then an RST."""

    def __init__(self, fraction: float = 0.5, times: int | None = None) -> None:
        super().__init__(times)
        self.fraction = fraction
        self.name = f"reset-mid-body({fraction:g})"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        body = good.body
        conn.head(200, [("Content-Type", good.content_type), *good.validator_headers()], len(body))
        conn.send(body[: int(len(body) * self.fraction)])
        time.sleep(0.05)  # let the partial body leave before the RST
        conn.reset()
        return "reset"


class Truncate(Fault):
    """Part of the body, then a clean close: with the full Content-Length declared (the client
    can tell), or with none (HTTP/1.0 style: the close ends the body, the client cannot)."""

    def __init__(
        self, fraction: float = 0.6, declared: bool = True, times: int | None = None
    ) -> None:
        super().__init__(times)
        self.fraction, self.declared = fraction, declared
        self.name = f"truncated({'declared' if declared else 'undeclared'} length)"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        body = good.body
        headers = [("Content-Type", good.content_type), *good.validator_headers()]
        conn.head(200, headers, len(body) if self.declared else None)
        conn.send(body[: int(len(body) * self.fraction)])
        conn.close()
        return "truncated"


class Oversized(Fault):
    """The good page padded to `size` bytes, declared in Content-Length or streamed without."""

    def __init__(self, size: int, declared: bool = True, times: int | None = None) -> None:
        super().__init__(times)
        self.size, self.declared = size, declared
        self.name = f"oversized({size} bytes, {'declared' if declared else 'streamed'})"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        body = pad(good.body, self.size)
        conn.head(200, [("Content-Type", good.content_type)], len(body) if self.declared else None)
        for i in range(0, len(body), 65536):
            try:
                conn.send(body[i : i + 65536])
            except OSError:  # the client gave up once over its limit: that is the point
                break
        conn.close()
        return "oversized"


def pad(body: bytes, size: int) -> bytes:
    """`body` grown to `size` bytes with an HTML comment before </body> (same text content)."""
    filler = max(0, size - len(body) - 7)
    comment = b"<!--" + b"x" * filler + b"-->"
    return (
        body.replace(b"</body>", comment + b"</body>", 1) if b"</body>" in body else body + comment
    )


@lru_cache(maxsize=4)
def gzip_bomb(expanded: int) -> bytes:
    """A gzip stream of `expanded` bytes of zeros (about 1000 times smaller)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [packer.compress(chunk) for _ in range(expanded // len(chunk))]
    return b"".join(parts) + packer.flush()


class GzipBomb(Fault):
    """A small gzip body (Content-Encoding: gzip) that expands to `expanded` bytes."""

    def __init__(self, expanded: int = 64 << 20, times: int | None = None) -> None:
        super().__init__(times)
        self.expanded = expanded
        self.name = f"gzip-bomb({expanded >> 20} MiB)"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        conn.answer(200, gzip_bomb(self.expanded), [("Content-Encoding", "gzip")])
        return "gzip-bomb"


class Redirect(Fault):
    """302 redirects: to the same URL ("self"), A->B->A ("ping-pong"), the same path on another
    host name of this server ("other-host"; followed, it would get the good page), or a new URL
    each time ("endless")."""

    KINDS = ("self", "ping-pong", "other-host", "endless")

    def __init__(self, kind: str, times: int | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"redirect kind must be one of {self.KINDS}")
        super().__init__(times)
        self.kind = kind
        self.name = f"redirect-{kind}"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        host = req.headers.get("host", "")
        if self.kind == "other-host" and host.startswith("localhost"):
            assert good is not None
            return serve_good(conn, req, good)  # the other host has the page
        base = f"http://{host or conn.site.host_port}"
        plain = _strip_hop(req.target)
        hop = req.query.get(_HOP)
        if self.kind == "self":
            location = base + req.target
        elif self.kind == "ping-pong":
            location = base + (plain if hop == "b" else _with_hop(plain, "b"))
        elif self.kind == "other-host":
            location = f"http://localhost:{conn.site.port}{plain}"
        else:
            location = base + _with_hop(plain, str(int(hop or 0) + 1))
        conn.answer(302, b"", [("Location", location)])
        return f"302->{location}"


def _strip_hop(target: str) -> str:
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != _HOP]
    return parts.path + ("?" + urlencode(query) if query else "")


def _with_hop(target: str, value: str) -> str:
    return target + ("&" if "?" in target else "?") + f"{_HOP}={value}"


class Delay(Fault):
    """The good answer, after `seconds` (a slow site; also paces crawls for process faults)."""

    def __init__(self, seconds: float, times: int | None = None) -> None:
        super().__init__(times)
        self.seconds = seconds
        self.name = f"delay({seconds:g}s)"

    def serve(self, conn: Conn, req: Request, good: Resource | None) -> str:
        assert good is not None
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and not conn.site.stopping.is_set():
            time.sleep(0.01)
        return serve_good(conn, req, good)


# --- the site ---------------------------------------------------------------------------------


class HostileSite:
    """The UNTC catalogue and status pages of `pages` (treaty id -> good HTML body)."""

    def __init__(
        self,
        pages: Mapping[str, bytes],
        *,
        validators: str = "etag",
        titles: Mapping[str, str] | None = None,
        port: int = 0,
    ) -> None:
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._resources: dict[str, Resource] = {}
        self._faults: dict[str, Fault] = {}
        self._everywhere: Fault | None = None
        self._accept_and_close = False
        self._listener: socket.socket | None = None
        self._conns: set[Conn] = set()
        self._titles = dict(titles or {})
        self.validators = validators
        self.robots = ROBOTS_ALLOW
        self.port = port
        self._treaties: list[str] = []
        for treaty, body in pages.items():
            self.set_page(treaty, body, catalogue=False)
        self._rebuild_catalogue()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="hostile-site")

    # -- content

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def treaties(self) -> list[str]:
        return list(self._treaties)

    def set_page(
        self,
        treaty: str,
        body: bytes,
        *,
        validators: str | None = None,
        content_type: str = HTML,
        catalogue: bool = True,
    ) -> None:
        """The good status page of `treaty` (a new body moves its Last-Modified)."""
        self.set_resource(
            status_target(treaty), body, validators=validators, content_type=content_type
        )
        if treaty not in self._treaties:
            self._treaties.append(treaty)
            if catalogue:
                self._rebuild_catalogue()

    def set_resource(
        self, target: str, body: bytes, *, validators: str | None = None, content_type: str = HTML
    ) -> None:
        key = lookup_key(target)
        with self._lock:
            old = self._resources.get(key)
            version = old.version + (old.body != body) if old else 1
            self._resources[key] = Resource(
                body,
                content_type,
                validators or (old.validators if old else self.validators),
                version,
            )

    def set_validators(self, treaty_or_target: str, validators: str) -> None:
        key = self._key(treaty_or_target)
        with self._lock:
            self._resources[key].validators = validators

    def page(self, treaty: str) -> bytes:
        return self._resources[lookup_key(status_target(treaty))].body

    def resource(self, treaty_or_target: str) -> Resource:
        return self._resources[self._key(treaty_or_target)]

    def _rebuild_catalogue(self) -> None:
        listed = [(t, self._titles.get(t, t)) for t in self._treaties]
        for target, body in catalogue_pages(listed):
            self.set_resource(target, body)

    def catalogue_targets(self) -> list[str]:
        return [target for target, _ in catalogue_pages((t, t) for t in self._treaties)]

    # -- faults

    def _key(self, treaty_or_target: str) -> str:
        if treaty_or_target.startswith("/"):
            return lookup_key(treaty_or_target)
        return lookup_key(status_target(treaty_or_target))

    def inject(self, treaty_or_target: str, fault: Fault) -> None:
        """Answer `fault` on one path (a treaty id means its status page)."""
        with self._lock:
            self._faults[self._key(treaty_or_target)] = fault

    def inject_everywhere(self, fault: Fault | None) -> None:
        """Answer `fault` on every path but /robots.txt (None: stop)."""
        with self._lock:
            self._everywhere = fault

    def accept_and_close(self, on: bool = True) -> None:
        """Accept every connection and close it at once, before reading a byte."""
        self._accept_and_close = on

    def restore(self, treaty_or_target: str | None = None) -> None:
        """Good answers again: on one path, or everywhere (listener, robots.txt included)."""
        with self._lock:
            if treaty_or_target is not None:
                self._faults.pop(self._key(treaty_or_target), None)
                return
            self._faults.clear()
            self._everywhere = None
            self._accept_and_close = False
            self.robots = ROBOTS_ALLOW
        if self._listener is None and self._thread.is_alive():
            self.listen()

    def _fault_for(self, key: str) -> Fault | None:
        with self._lock:
            fault = self._faults.get(key) or self._everywhere
            if fault is None or fault.spent():
                return None
            fault.served += 1
            return fault

    # -- the listener

    def start(self) -> HostileSite:
        self.listen()
        self._thread.start()
        return self

    def listen(self) -> None:
        """Open the listening socket (again, on the same port after `refuse`)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        with self._lock:
            self._listener = sock

    def refuse(self) -> None:
        """Close the listening socket: connections to the port are refused until `listen`."""
        with self._lock:
            sock, self._listener = self._listener, None
        if sock is not None:
            _close_listener(sock)

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            sock = self._listener
            if sock is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([sock], [], [], 0.05)
                if not ready:
                    continue
                client, _ = sock.accept()
            except (OSError, ValueError):  # closed under us by refuse()
                continue
            if self._accept_and_close:
                client.close()
                self._log(Request("?", "?", {}), "accepted-and-closed")
                continue
            conn = Conn(client, self)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _log(self, req: Request, answer: str) -> Hit:
        hit = Hit(time.monotonic(), req, answer)
        with self._lock:
            self.hits.append(hit)
        return hit

    def _handle(self, conn: Conn) -> None:
        try:
            req = _read_request(conn.sock)
            if req is None:
                return
            hit = self._log(req, "...")
            hit.answer = self._answer(conn, req)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)

    def _answer(self, conn: Conn, req: Request) -> str:
        key = req.key
        if urlsplit(req.target).path == "/robots.txt":
            conn.answer(200, self.robots, content_type="text/plain")
            return "200"
        fault = self._fault_for(key)
        with self._lock:
            good = self._resources.get(key)
        if fault is not None:
            return f"{fault.name}: {fault.serve(conn, req, good)}"
        if good is None:
            conn.answer(404, b"not here\n", content_type="text/plain")
            return "404"
        return serve_good(conn, req, good)

    def stop(self) -> None:
        self.stopping.set()
        self.refuse()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        if self._thread.is_alive():
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened

    def hits_for(self, treaty_or_target: str, since: float = 0.0) -> list[Hit]:
        key = self._key(treaty_or_target)
        with self._lock:
            return [h for h in self.hits if h.at >= since and h.request.key == key]

    def status_hits(self, since: float = 0.0) -> list[Hit]:
        """Requests for status pages (ViewDetails), in arrival order."""
        with self._lock:
            return [h for h in self.hits if h.at >= since and h.treaty is not None]


def _close_listener(sock: socket.socket) -> None:
    """Stop listening now: shutdown() first, or a select() in the accept thread would keep the
    socket listening (and completing handshakes) until it returns."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _read_request(sock: socket.socket, limit: int = 65536) -> Request | None:
    """Read one request head (the crawler sends no bodies); None if the peer closed first."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    sock.settimeout(None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    line, *rest = head.split("\r\n")
    parts = line.split(" ")
    if len(parts) != 3:
        return None
    headers: dict[str, str] = {}
    for item in rest:
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0], parts[1], headers)


@dataclass
class SiteLog:
    """A mark in the log: `site.hits` after it (a crawl's requests)."""

    site: HostileSite
    start: float = field(default_factory=time.monotonic)

    def hits(self) -> list[Hit]:
        return [h for h in self.site.hits if h.at >= self.start]

    def for_treaty(self, treaty: str) -> list[Hit]:
        return [h for h in self.hits() if h.treaty == treaty]
