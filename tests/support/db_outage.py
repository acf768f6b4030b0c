"""Database outages a test can cause without touching the shared server, and process look-ups.

- `TcpProxy`: a loopback TCP proxy in front of PostgreSQL. The tracker is given the proxy's
  address; `cut()` resets every connection through it and closes its port (new connections are
  refused), `restore()` opens the same port again. The server itself is never stopped.
- `SqliteLock`: another connection holding SQLite's write lock (BEGIN EXCLUSIVE) on the file.
- `descendants(pid)` / `crawl_child(pid)`: find the Scrapy child of a `tracker crawl`.
"""

from __future__ import annotations

import select
import socket
import sqlite3
import struct
import threading
import time
from pathlib import Path
from typing import Self

from sqlalchemy.engine import make_url


class TcpProxy:
    """Forward 127.0.0.1:<port> to `upstream`, until cut."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="tcp-proxy")
        self.connections = 0  # accepted so far
        self.cuts = 0

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        parsed = make_url(url)
        return cls((parsed.host or "127.0.0.1", parsed.port or 5432))

    def url(self, url: str) -> str:
        """`url` (a SQLAlchemy URL) pointed at the proxy instead of the server."""
        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def start(self) -> TcpProxy:
        self._listen()
        self._thread.start()
        return self

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def cut(self) -> None:
        """Refuse new connections and reset every open one (both sides)."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = list(self._pairs), set()
            self.cuts += 1
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # stop listening now, select() or not
            except OSError:
                pass
            listener.close()
        for client, server in pairs:
            for sock in (client, server):
                _reset(sock)

    def restore(self) -> None:
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        self._stop.set()
        self.cut()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
                self.connections += 1
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, server = pair
        peers = {client: server, server: client}
        try:
            while not self._stop.is_set():
                with self._lock:
                    if pair not in self._pairs:
                        return
                ready, _, _ = select.select([client, server], [], [], 0.05)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for sock in pair:
                try:
                    sock.close()
                except OSError:
                    pass


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class SqliteLock:
    """Another connection that takes SQLite's write lock on the database file and holds it."""

    def __init__(self, db_url: str) -> None:
        self.path = Path(make_url(db_url).database or "")
        self.conn: sqlite3.Connection | None = None

    def hold(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        self.conn = conn

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


# --- processes --------------------------------------------------------------------------------


def _ppid_and_cmd(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return None
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    return ppid, cmd


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of `pid`: pid -> command line."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _ppid_and_cmd(int(entry.name))
            if found is not None:
                table[int(entry.name)] = found
    result: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, cmd) in table.items():
            if ppid == parent and child not in result:
                result[child] = cmd
                frontier.append(child)
    return result


def crawl_child(pid: int, timeout: float = 30) -> int:
    """The pid of the Scrapy process under `tracker crawl` `pid` (`python -m scrapy crawl`, or
    `python -m spiders.child`), waiting for it to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child, cmd in descendants(pid).items():
            if ("scrapy" in cmd and "crawl" in cmd) or "spiders.child" in cmd:
                return child
        time.sleep(0.02)
    raise TimeoutError(f"no Scrapy child under pid {pid} after {timeout} s")


def alive(pid: int) -> bool:
    found = _ppid_and_cmd(pid)
    if found is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
