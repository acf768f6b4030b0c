"""ASGI guards around the whole application: request bodies limited before they are read, and
redirects that point at TRACKER_PUBLIC_URL rather than at the request's Host header.

`BodyLimit`: a request declaring a body larger than the limit (Content-Length) is answered 413
at once, before one byte of it is read, and the connection is closed (so the server does not
drain it). A body of unknown length (chunked) is counted while the application reads it; past
the limit, reading stops and the answer is 413. Routes named by `authenticate_first` (the
operators') check their credentials before they read a body, so there a declared size is
enforced when the body is first read: an unauthenticated request gets its 401 whatever it
carries. Whenever an answer leaves a large or unbounded body unread, it says
`Connection: close`, so the server closes instead of reading the rest.

`CleanJSON`: no stored control character reaches a JSON answer (see the class).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.web.export import printable

CLOSE = (b"connection", b"close")


class BodyTooLarge(HTTPException):
    """A request body over the limit (an HTTPException, so FastAPI's body parsing passes it on
    as a 413 instead of a 400 "error parsing the body")."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            detail=f"request body too large: at most {limit} bytes are accepted",
            headers={"Connection": "close"},
        )


def _declared_length(scope: Scope) -> tuple[int | None, bool]:
    """(Content-Length, chunked) from the request headers (the server has checked them)."""
    length: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return length, chunked


async def _refuse(send: Send, error: BodyTooLarge) -> None:
    body = json.dumps({"detail": error.detail}, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                CLOSE,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over `limit` bytes (413) without reading them (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        authenticate_first: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        self.app = app
        self.limit = limit
        self.authenticate_first = authenticate_first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared, chunked = _declared_length(scope)
        too_large = declared is not None and declared > limit
        if too_large and not self.authenticate_first(scope):
            await _refuse(send, BodyTooLarge(limit))
            return
        received = 0
        finished = declared in (None, 0) and not chunked  # no body at all
        started = False

        async def limited_receive() -> Message:
            nonlocal received, finished
            if too_large:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                finished = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # A body left unread that the server would otherwise drain: close instead.
                if not finished and (chunked or too_large):
                    headers = list(message.get("headers", ()))
                    if CLOSE not in headers:
                        message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except BodyTooLarge as error:  # raised outside a route (which would have answered)
            if started:
                raise
            await _refuse(send, error)


class PublicRedirects:
    """Redirects that Starlette builds from the request (e.g. the trailing-slash redirect) point
    at `public_url`, not at whatever Host header the request carried. A Location on another
    host than the request's is left alone."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v for n, v in scope.get("headers", ()) if n == b"host"), b"")
        own = host.decode("latin-1").lower()

        async def rewriting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = [self._header(h, own) for h in message.get("headers", ())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, rewriting_send)

    def _header(self, header: tuple[bytes, bytes], own: str) -> tuple[bytes, bytes]:
        name, value = header
        if name.lower() != b"location":
            return header
        target = urlsplit(value.decode("latin-1"))
        if not target.scheme or target.netloc.lower() != own:  # relative, or not built from us
            return header
        rest = target.path + (f"?{target.query}" if target.query else "")
        return name, (self.public_url + rest).encode("latin-1")


# Bytes that announce an unprintable character in a UTF-8 JSON body: a C0 control escaped by
# the encoder (a backslash, then u00XX, or b and f for BS and FF; TAB, LF and CR are fine), DEL,
# the lead byte of C1 (and of the rest of U+0080-U+00BF, hence the precise check after), U+FFFE
# and U+FFFF.
_SUSPECT = (b"\\u00", b"\\b", b"\\f", b"\x7f", b"\xc2", b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_UNPRINTABLE_JSON = re.compile(
    rb"\\u00[01][0-9a-fA-F]|\\[bf]|\x7f|\xc2[\x80-\x9f]|\xef\xbf[\xbe\xbf]"
)


def _clean_json(body: bytes) -> bytes | None:
    """The body without unprintable characters in its strings, or None when it has none (the
    common case costs a few substring scans) or is not JSON."""
    if not any(s in body for s in _SUSPECT) or not _UNPRINTABLE_JSON.search(body):
        return None
    try:
        content = json.loads(body)
    except ValueError:
        return None
    return json.dumps(
        printable(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


class CleanJSON:
    """JSON answers whose strings carry no control or XML-illegal character, whatever text was
    stored before the parsers stripped them (tracker.sources.text does at parse time). Works on
    the encoded body (gathered when it comes in parts), so FastAPI keeps its fast serializer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def cleaning_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                if headers.get(b"content-type", b"").startswith(b"application/json"):
                    start = message  # held until the whole body is seen
                    return
            elif message["type"] == "http.response.body" and start is not None:
                parts.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                held, start = start, None
                body = b"".join(parts)
                cleaned = _clean_json(body)
                if cleaned is not None:
                    headers = [(n, v) for n, v in held.get("headers", ()) if n != b"content-length"]
                    headers.append((b"content-length", str(len(cleaned)).encode()))
                    held, body = {**held, "headers": headers}, cleaned
                await send(held)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, cleaning_send)
