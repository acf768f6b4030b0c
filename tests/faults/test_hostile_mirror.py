"""The fault-injection helpers do what they claim, seen by plain clients (no tracker involved):
each hostile answer on the wire, the catalogue, conditional requests, the TCP proxy's cut and
the SQLite lock."""

from __future__ import annotations

import gzip
import http.client
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator

import pytest
from support import wrong_pages as pages
from support.db_outage import SqliteLock, TcpProxy
from support.hostile import (
    ROBOTS_DISALLOW_ALL,
    Body,
    CloseWithoutAnswer,
    Delay,
    EmptyWithEtag,
    GzipBomb,
    Hang,
    HostileSite,
    NotModifiedOtherEtag,
    Oversized,
    Redirect,
    Reset,
    Status,
    Truncate,
    status_target,
)

from tracker.sources.untc.mirror import chapter_page

T = "XXVI-101"
U = "IV-102"


@pytest.fixture
def site() -> Iterator[HostileSite]:
    with HostileSite({T: pages.good(T), U: pages.good(U)}) as found:
        yield found


def get(
    site: HostileSite,
    target: str,
    headers: dict[str, str] | None = None,
    timeout: float = 5,
    host: str = "127.0.0.1",
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(host, site.port, timeout=timeout)
    conn.request("GET", target, headers=headers or {})
    return conn.getresponse()


def test_good_pages_catalogue_and_conditional_requests(site: HostileSite) -> None:
    first = get(site, status_target(T))
    body = first.read()
    assert first.status == 200 and body == pages.good(T)
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    assert etag and modified
    assert get(site, status_target(T), {"If-None-Match": etag}).status == 304
    assert get(site, status_target(T), {"If-None-Match": '"other"'}).status == 200
    index = get(site, "/Pages/ParticipationStatus.aspx?clang=_en").read()
    assert (
        b"Treaties.aspx?id=26&amp;subid=A" in index and b"Treaties.aspx?id=4&amp;subid=A" in index
    )
    chapter = get(site, "/Pages/Treaties.aspx?id=26&subid=A&clang=_en").read()
    assert chapter == chapter_page(26, [(T, T)])
    assert get(site, "/robots.txt").read() == b"User-agent: *\nDisallow:\n"
    site.robots = ROBOTS_DISALLOW_ALL
    assert get(site, "/robots.txt").read() == ROBOTS_DISALLOW_ALL


def test_last_modified_only_and_no_validators(site: HostileSite) -> None:
    site.set_validators(T, "last-modified")
    first = get(site, status_target(T))
    first.read()
    assert first.getheader("ETag") is None and first.getheader("Last-Modified")
    since = {"If-Modified-Since": first.getheader("Last-Modified")}
    assert get(site, status_target(T), since).status == 304
    site.set_page(T, pages.good(T, stamp="04-02-2026 10:00:00 EST"))  # a new body: newer date
    assert get(site, status_target(T), since).status == 200
    site.set_validators(T, "none")
    bare = get(site, status_target(T))
    bare.read()
    assert bare.getheader("ETag") is None and bare.getheader("Last-Modified") is None
    assert get(site, status_target(T), since).status == 200


def test_http_errors_retry_after_and_times(site: HostileSite) -> None:
    site.inject(T, Status(503, retry_after=3, times=1))
    first = get(site, status_target(T))
    assert first.status == 503 and first.getheader("Retry-After") == "3"
    assert get(site, status_target(T)).status == 200  # spent after one answer
    site.inject(U, Status(500))
    assert [get(site, status_target(U)).status for _ in range(2)] == [500, 500]
    site.restore(U)
    assert get(site, status_target(U)).status == 200


def test_reset_mid_body_is_an_rst_after_part_of_the_body(site: HostileSite) -> None:
    site.inject(T, Reset(0.5))
    answer = get(site, status_target(T))
    assert answer.status == 200
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        answer.read()
    # On the raw socket: some bytes, then ECONNRESET (not a clean end of stream).
    sock = socket.create_connection(("127.0.0.1", site.port))
    sock.sendall(f"GET {status_target(T)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    received = b""
    with pytest.raises(ConnectionResetError):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    sock.close()
    assert b"200 OK" in received and len(received) < len(pages.good(T))


def test_truncated_with_and_without_a_declared_length(site: HostileSite) -> None:
    site.inject(T, Truncate(0.6, declared=True))
    answer = get(site, status_target(T))
    assert int(answer.getheader("Content-Length")) == len(pages.good(T))
    with pytest.raises(http.client.IncompleteRead):
        answer.read()
    site.inject(T, Truncate(0.6, declared=False))
    answer = get(site, status_target(T))
    assert answer.getheader("Content-Length") is None
    body = answer.read()  # the close ends the body: the client cannot tell
    assert body == pages.good(T)[: int(len(pages.good(T)) * 0.6)]


def test_hang_close_and_refuse(site: HostileSite) -> None:
    site.inject(T, Hang())
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(site, status_target(T), timeout=0.5)
    assert time.monotonic() - started >= 0.5
    site.inject(T, CloseWithoutAnswer())
    with pytest.raises(http.client.RemoteDisconnected):
        get(site, status_target(T))
    site.restore()
    site.accept_and_close()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        get(site, status_target(T))
    site.restore()
    port = site.port
    site.refuse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    site.restore()  # listens again, same port
    assert site.port == port and get(site, status_target(T)).status == 200


def test_bodies_oversized_and_gzip_bomb(site: HostileSite) -> None:
    site.inject(T, Body(pages.MAINTENANCE, name="maintenance"))
    assert get(site, status_target(T)).read() == pages.MAINTENANCE
    site.inject(T, EmptyWithEtag())
    empty = get(site, status_target(T))
    good_etag = site.resource(T).etag
    assert empty.read() == b"" and empty.getheader("ETag") == good_etag
    site.inject(T, Oversized(300_000, declared=True))
    big = get(site, status_target(T))
    assert int(big.getheader("Content-Length")) == 300_000 and len(big.read()) == 300_000
    site.inject(T, Oversized(300_000, declared=False))
    streamed = get(site, status_target(T))
    assert streamed.getheader("Content-Length") is None and len(streamed.read()) == 300_000
    site.inject(T, GzipBomb(16 << 20))
    bomb = get(site, status_target(T))
    packed = bomb.read()
    assert bomb.getheader("Content-Encoding") == "gzip" and len(packed) < 64 * 1024
    assert len(zlib.decompressobj(31).decompress(packed)) == 16 << 20
    assert gzip.decompress(packed)[:4] == b"\0\0\0\0"


def test_304_with_another_etag(site: HostileSite) -> None:
    site.inject(T, NotModifiedOtherEtag())
    assert get(site, status_target(T)).status == 200  # unconditional: the page
    answer = get(site, status_target(T), {"If-None-Match": site.resource(T).etag})
    assert answer.status == 304 and answer.getheader("ETag") != site.resource(T).etag


@pytest.mark.parametrize("kind", Redirect.KINDS)
def test_redirects(site: HostileSite, kind: str) -> None:
    site.inject(T, Redirect(kind))
    target = status_target(T)
    seen = []
    for _ in range(4):
        answer = get(site, target)
        answer.read()
        assert answer.status == 302
        location = answer.getheader("Location")
        seen.append(location)
        if kind == "other-host":
            break
        target = location.split(str(site.port), 1)[1]
    if kind == "self":
        assert len(set(seen)) == 1 and seen[0].endswith(status_target(T))
    elif kind == "ping-pong":
        assert seen[0] == seen[2] and seen[1] == seen[3] and seen[0] != seen[1]
    elif kind == "endless":
        assert len(set(seen)) == 4
    else:
        assert seen[0].startswith(f"http://localhost:{site.port}/")
        assert get(site, status_target(T), host="localhost").status == 200  # the other host


def test_everywhere_fault_spares_robots_and_the_log_has_every_request(site: HostileSite) -> None:
    site.inject_everywhere(Status(500))
    assert get(site, "/Pages/ParticipationStatus.aspx?clang=_en").status == 500
    assert get(site, "/robots.txt").status == 200
    site.inject(U, Delay(0.2))
    started = time.monotonic()
    assert get(site, status_target(U)).status == 200 and time.monotonic() - started >= 0.2
    targets = [h.target for h in site.hits]
    assert targets[-3:] == [
        "/Pages/ParticipationStatus.aspx?clang=_en",
        "/robots.txt",
        status_target(U),
    ]
    deadline = time.monotonic() + 2  # the log is written once the answer is out
    while site.hits_for(U)[-1].answer != "delay(0.2s): 200" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert site.hits_for(U)[-1].answer == "delay(0.2s): 200"


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return

            def echo(c: socket.socket = conn) -> None:
                try:
                    while data := c.recv(4096):
                        c.sendall(data)
                except OSError:
                    pass

            threading.Thread(target=echo, daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_tcp_proxy_cut_resets_and_refuses_then_restores() -> None:
    server, _ = _echo_server()
    with TcpProxy(("127.0.0.1", server.getsockname()[1])) as proxy:
        client = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        client.sendall(b"ping")
        assert client.recv(4) == b"ping"
        proxy.cut()
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            client.sendall(b"more")
            assert client.recv(4) == b""  # a reset shows on send or on receive
            raise ConnectionResetError
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=1)
        proxy.restore()
        again = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        again.sendall(b"pong")
        assert again.recv(4) == b"pong"
        again.close()
    server.close()
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test_x?options=-csearch_path%3Ds"
    assert TcpProxy.for_url(url).upstream == ("127.0.0.1", 5432)


def test_sqlite_lock_blocks_writers(tmp_path) -> None:
    path = tmp_path / "t.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x)")
    setup.commit()
    setup.close()
    lock = SqliteLock(f"sqlite:///{path}")
    lock.hold()
    writer = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        writer.execute("BEGIN IMMEDIATE")
    lock.release()
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("COMMIT")
