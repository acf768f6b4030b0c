"""Request body limits on a real uvicorn server (a subprocess on 127.0.0.1), with a raw socket
client: a 200 MB body is refused without being read, whether it declares its length or comes
chunked; operators' routes answer 401 first; the server's memory does not grow.

"Not read" is measured from outside: with a Content-Length the answer arrives before the client
sent one byte of the body; chunked, it arrives while the client is still sending, after at most
a few MiB (socket buffers and the limit), and the connection is then closed (never drained).
The server's resident memory is read from /proc before and after each refused request.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TOKEN = "server-test-operator-token"
PUBLIC = "https://tracker.example.org"
LIMIT = 1 << 20  # TRACKER_MAX_REQUEST_BODY, the default
HUGE = 200 * 1000 * 1000  # 200 MB
PIECE = 64 << 10
MiB = 1 << 20
# What the client may get into the connection before the server answers or closes it: the
# limit plus socket buffers on both sides (loopback autotuning) — far below 200 MB.
SENT_BOUND = 24 * MiB
RSS_BOUND = 24 * MiB  # the server's memory growth over one refused request

SERVER = """
import socket, sys
import uvicorn
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tracker.settings import Settings
from tracker.web.app import create_app

settings = Settings.from_env()
upgrade(settings.database_url)
app = create_app(make_session_factory(make_engine(settings.database_url)), settings)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
"""


@dataclass
class Server:
    port: int
    pid: int

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("body-limit")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATA_DIR": str(data),
        "TRACKER_DATABASE_URL": f"sqlite:///{data / 'tracker.sqlite3'}",
        "TRACKER_ADMIN_TOKEN": TOKEN,
        "TRACKER_PUBLIC_URL": PUBLIC,
        "TRACKER_SECRET_KEY": "k" * 40,
        "TRACKER_MAX_REQUEST_BODY": str(LIMIT),
        "TRACKER_WEBHOOK_ALLOWLIST": "127.0.0.0/8",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        deadline = time.monotonic() + 20
        while True:
            try:
                if exchange(port, request("GET", "/healthz")).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield Server(port, child.pid)
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


def request(method: str, path: str, *headers: str, host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]
    return "\r\n".join(lines).encode()


def body(total: int, *, chunked: bool) -> Iterator[bytes]:
    """`total` bytes of body in 64 KiB pieces, chunk-framed when `chunked`."""
    sent = 0
    while sent < total:
        piece = b"a" * min(PIECE, total - sent)
        sent += len(piece)
        yield b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


@dataclass
class Exchange:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sent_before_answer: int | None = None  # body bytes sent when the status line arrived
    sent: int = 0  # body bytes the connection took in all
    closed: bool = False  # the server closed the connection

    def json(self) -> object:
        return json.loads(self.body)


def _parse(raw: bytes, result: Exchange) -> bool:
    """Fill `result` from the raw answer; True once the whole answer is there."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    lines = head.decode("latin-1").split("\r\n")
    result.status = int(lines[0].split()[1])
    result.headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    length = int(result.headers.get("content-length", "0"))
    result.body = rest[:length]
    return len(rest) >= length


def exchange(
    port: int,
    head: bytes,
    payload: Iterator[bytes] | None = None,
    *,
    wait_for_answer: bool = False,
    seconds: float = 30.0,
) -> Exchange:
    """Send `head`, then `payload` as fast as the connection takes it, while reading the
    answer; stop when the server has answered and closed, or after `seconds`. With
    `wait_for_answer`, send no body byte before the answer arrives (5 s at most)."""
    result = Exchange()
    raw = b""
    pending = b""
    answered = False
    with_body = payload is not None  # then read on until the server closes
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(head)
        sock.setblocking(False)
        deadline = time.monotonic() + seconds
        answer_deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not result.closed:
            writing = payload is not None and (answered or not wait_for_answer)
            readable, writable, _ = select.select([sock], [sock] if writing else [], [], 0.2)
            if readable:
                try:
                    data = sock.recv(1 << 16)
                except ConnectionResetError:
                    data = b""
                if not data:
                    result.closed = True
                    break
                raw += data
                if result.sent_before_answer is None and b"\r\n" in raw:
                    result.sent_before_answer = result.sent
                answered = _parse(raw, result)
                if answered and not with_body:
                    break
            if writable and payload is not None:
                if not pending:
                    pending = next(payload, b"")
                    if not pending:
                        payload = None
                        continue
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    payload = None  # the server closed: read what it said, up to the end
                    continue
                except BlockingIOError:
                    continue
                result.sent += n
                pending = pending[n:]
            if wait_for_answer and not answered:
                assert time.monotonic() < answer_deadline, "no answer without the body"
        _parse(raw, result)
        return result
    finally:
        sock.close()


def _refused_unread(server: Server, head: bytes, *, chunked: bool, status: int) -> Exchange:
    before = server.rss()
    result = exchange(server.port, head, body(HUGE, chunked=chunked), wait_for_answer=not chunked)
    grown = server.rss() - before
    assert result.status == status, (result.status, result.body[:200])
    assert result.headers.get("connection") == "close"
    assert result.closed, "the server kept the connection open (it would read the rest)"
    assert result.sent <= SENT_BOUND, f"the connection took {result.sent / MiB:.1f} MiB"
    assert grown <= RSS_BOUND, f"the server grew by {grown / MiB:.1f} MiB"
    if not chunked:
        assert result.sent_before_answer == 0  # answered before any body byte was sent
    return result


@pytest.mark.parametrize(
    "path", ["/api/events", "/subscriptions/manage/any-token", "/subscriptions/confirm/x"]
)
def test_a_declared_200_mb_body_is_refused_before_it_is_sent(server, path):
    head = request("POST", path, f"Content-Length: {HUGE}", "Content-Type: application/json")
    result = _refused_unread(server, head, chunked=False, status=413)
    assert result.json() == {
        "detail": f"request body too large: at most {LIMIT} bytes are accepted"
    }


def test_a_declared_200_mb_body_to_an_operator_route(server):
    unauthenticated = request(
        "POST", "/api/subscriptions", f"Content-Length: {HUGE}", "Content-Type: application/json"
    )
    result = _refused_unread(server, unauthenticated, chunked=False, status=401)
    assert result.headers.get("www-authenticate") == "Bearer"
    authenticated = request(
        "POST",
        "/api/subscriptions",
        f"Content-Length: {HUGE}",
        "Content-Type: application/json",
        f"Authorization: Bearer {TOKEN}",
    )
    _refused_unread(server, authenticated, chunked=False, status=413)


def test_a_chunked_200_mb_body_is_counted_and_cut_off(server):
    chunked = ("Transfer-Encoding: chunked", "Content-Type: application/json")
    authenticated = request(
        "POST", "/api/subscriptions", *chunked, f"Authorization: Bearer {TOKEN}"
    )
    result = _refused_unread(server, authenticated, chunked=True, status=413)
    assert result.sent_before_answer is not None and result.sent_before_answer < HUGE
    assert result.sent >= LIMIT  # it was read up to the limit, then stopped

    unauthenticated = request("POST", "/api/subscriptions", *chunked)
    _refused_unread(server, unauthenticated, chunked=True, status=401)
    # a page that reads a small form stops at its own cap (4 KiB)
    form = ("Transfer-Encoding: chunked", "Content-Type: application/x-www-form-urlencoded")
    _refused_unread(
        server, request("POST", "/subscriptions/manage/tok", *form), chunked=True, status=413
    )
    # a route that never reads its body answers at once, and closes rather than drain it
    _refused_unread(server, request("POST", "/api/events", *chunked), chunked=True, status=405)


def test_bodies_within_the_limit_still_work_with_keep_alive(server):
    payload = json.dumps({"channel": "webhook", "target": "http://127.0.0.1:9/hook"}).encode()
    head = request(
        "POST",
        "/api/subscriptions",
        f"Content-Length: {len(payload)}",
        "Content-Type: application/json",
        f"Authorization: Bearer {TOKEN}",
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + payload)
        first = Exchange()
        raw = b""
        while not _parse(raw, first):
            raw += sock.recv(1 << 16)
        assert first.status == 201, first.body
        assert "close" not in first.headers.get("connection", "")
        sock.sendall(request("GET", "/api/subscriptions", f"Authorization: Bearer {TOKEN}"))
        second, raw = Exchange(), b""
        while not _parse(raw, second):
            raw += sock.recv(1 << 16)
        assert second.status == 200  # the same connection served a second request
        assert any(s["target"] == "http://127.0.0.1:9/hook" for s in json.loads(second.body))


def test_a_forged_host_header_does_not_reach_the_feed(server):
    result = exchange(server.port, request("GET", "/feeds/events.atom", host="evil.example"))
    assert result.status == 200
    assert b"evil.example" not in result.body
    root = ET.fromstring(result.body)
    assert root.findtext("{http://www.w3.org/2005/Atom}id") == f"{PUBLIC}/feeds/events.atom"
    redirect = exchange(server.port, request("GET", "/api/events/", host="evil.example"))
    assert redirect.status == 307
    assert redirect.headers["location"] == f"{PUBLIC}/api/events"
