"""Real alert receivers on loopback, for tests and benchmarks.

- `WebhookReceiver`: a threaded HTTP/1.1 server (keep-alive, no Nagle delay) that records every
  POST (idempotency key, raw body, headers, phase) and answers after an optional delay.
- `webhook_process` / `smtp_process`: the same webhook receiver, or an aiosmtpd SMTP server, in a
  separate process (its own GIL), asked for what it received through a pipe.
"""

from __future__ import annotations

import multiprocessing
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any, Self


@dataclass(frozen=True)
class Received:
    """One webhook request as it arrived."""

    key: str | None  # Idempotency-Key header
    body: bytes
    headers: dict[str, str]
    phase: int  # the receiver's phase when the request arrived (tests set it)
    at: float  # time.monotonic()
    path: str = ""  # the request's path


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that keeps every request and answers `status`.

    A request is recorded as soon as its body has arrived, before the answer's delay."""

    delay: float = 0.0  # seconds before each answer
    status: int = 204
    jitter: float = 0.0  # up to this many seconds more, at random, before each answer
    failing: str | None = None  # paths starting with this are answered 503
    slow: str | None = None  # paths starting with this are answered after `slow_delay`
    slow_delay: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    phase: int = 1
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def set_phase(self, phase: int) -> None:
        with self._lock:
            self.phase = phase

    def _record(
        self, key: str | None, body: bytes, headers: dict[str, str], path: str = ""
    ) -> None:
        with self._lock:
            self.requests.append(Received(key, body, headers, self.phase, time.monotonic(), path))

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one connection per client
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # cut short (the sender died): never a delivery
                    self.close_connection = True
                    return
                receiver._record(
                    self.headers.get("Idempotency-Key"), body, dict(self.headers), self.path
                )
                wait = receiver.delay + (
                    random.uniform(0, receiver.jitter) if receiver.jitter else 0
                )
                if wait:
                    time.sleep(wait)
                failing = receiver.failing is not None and self.path.startswith(receiver.failing)
                self.send_response(503 if failing else receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def webhook_receiver(
    delay: float = 0.0,
    status: int = 204,
    *,
    jitter: float = 0.0,
    failing: str | None = None,
    slow: str | None = None,
    slow_delay: float = 0.0,
    host: str = "127.0.0.1",
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(
        delay=delay,
        status=status,
        jitter=jitter,
        failing=failing,
        slow=slow,
        slow_delay=slow_delay,
        host=host,
    ).start()
    try:
        yield receiver
    finally:
        receiver.stop()


# --- receivers in a separate process ------------------------------------------------------


class _Keys:
    """What a receiver process reports: every key received, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: list[str | None] = []
        self.first: float | None = None
        self.last: float | None = None

    def add(self, key: str | None) -> None:
        now = time.monotonic()
        with self.lock:
            self.keys.append(key)
            self.first = self.first if self.first is not None else now
            self.last = now

    def reset(self) -> None:
        with self.lock:
            self.keys.clear()
            self.first = self.last = None

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {"keys": list(self.keys), "span": (self.last or 0) - (self.first or 0)}


def _serve(conn: Connection, start: Callable[[_Keys], tuple[int, Callable[[], None]]]) -> None:
    """Child process main loop: start a server, send its port, answer "keys" until "stop"."""
    keys = _Keys()
    port, stop = start(keys)
    conn.send(port)
    try:
        while True:
            command = conn.recv()
            if command == "keys":
                conn.send(keys.report())
            elif command == "reset":
                keys.reset()
                conn.send(True)
            else:
                break
    finally:
        stop()


def _webhook_child(conn: Connection, delay: float) -> None:
    def start(keys: _Keys) -> tuple[int, Callable[[], None]]:
        receiver = WebhookReceiver(delay=delay)
        receiver._record = lambda key, *_: keys.add(key)  # type: ignore[method-assign]
        receiver.start()
        return receiver.port, receiver.stop

    _serve(conn, start)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_DELIVERY = re.compile(rb"^X-Tracker-Delivery: *([^\r\n]+)", re.MULTILINE)


def _smtp_child(conn: Connection) -> None:
    from aiosmtpd.controller import Controller

    def start(keys: _Keys) -> tuple[int, Callable[[], None]]:
        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                content = envelope.original_content or envelope.content or b""
                head = content.split(b"\r\n\r\n", 1)[0]
                found = _DELIVERY.search(head)
                keys.add(found.group(1).decode() if found else None)
                return "250 OK"

        port = free_port()  # aiosmtpd's start-up check connects to the port it was given
        controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        controller.start()
        return port, controller.stop

    _serve(conn, start)


class ReceiverProcess:
    """A receiver running in a child process; `keys()` asks it what it received so far."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        if not self._conn.poll(30):
            self.process.kill()
            raise RuntimeError("the receiver process did not start")
        self.port: int = self._conn.recv()

    def keys(self) -> list[str | None]:
        return self.report()["keys"]

    def report(self) -> dict[str, Any]:
        self._conn.send("keys")
        return self._conn.recv()

    def reset(self) -> None:
        self._conn.send("reset")
        self._conn.recv()

    def close(self) -> None:
        if self.process.is_alive():
            self._conn.send("stop")
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def webhook_process(delay: float = 0.0) -> ReceiverProcess:
    """A webhook receiver in its own process (answers 204 after `delay` seconds)."""
    return ReceiverProcess(_webhook_child, delay)


def smtp_process() -> ReceiverProcess:
    """An aiosmtpd server in its own process, accepting every message."""
    return ReceiverProcess(_smtp_child)


# --- an SMTP receiver in this process, keeping every message's bytes ----------------------


@dataclass
class SmtpInbox:
    """What an in-process aiosmtpd server received: each message's raw bytes and recipients."""

    messages: list[tuple[bytes, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        self.messages.append((bytes(content), list(envelope.rcpt_tos)))
        return "250 OK"


@contextmanager
def smtp_receiver() -> Iterator[tuple[SmtpInbox, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: the inbox and its port."""
    from aiosmtpd.controller import Controller

    inbox, port = SmtpInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
