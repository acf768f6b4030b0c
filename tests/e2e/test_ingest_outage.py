"""A database that fails while a crawl ingests loses no page: retried, else spooled to disk as
failed and recovered later (by the next crawl's start or `tracker ingest --spool`), once.

The database is made unavailable for real, mid-crawl, when the mirror is asked for a status
page: on SQLite another connection holds an exclusive lock (the crawl's busy timeout is cut to
0.2 s through the URL); on PostgreSQL the crawl reaches the server through a loopback TCP
proxy that is cut (the shared server is never stopped).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from support.db_outage import TcpProxy
from support.fetch_faults import crawl, crawl_env, status_body, target, tracker

from db.models import IngestReceipt, Quarantine, Snapshot, Source
from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, untc_site

pytestmark = [pytest.mark.db, pytest.mark.slow]

A, B = "XXVI-1", "XXVI-2"


@dataclass
class Outage:
    """The crawl's database URL, and a switch that makes that database unavailable."""

    url: str
    cut: Any
    restore: Any


@pytest.fixture
def outage(db_url: str) -> Iterator[Outage]:
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        holder: dict[str, sqlite3.Connection] = {}

        def cut() -> None:
            if "conn" not in holder:
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                conn.execute("BEGIN EXCLUSIVE")
                holder["conn"] = conn

        def restore() -> None:
            conn = holder.pop("conn", None)
            if conn is not None:
                conn.execute("ROLLBACK")
                conn.close()

        yield Outage(f"{db_url}?timeout=0.2", cut, restore)
        restore()
        return
    with TcpProxy.for_url(db_url) as proxy:
        yield Outage(f"{proxy.url(db_url)}&connect_timeout=2", proxy.cut, proxy.restore)


def cut_on_first_status_request(server, outage: Outage, *treaties: str) -> None:
    """The database goes away when the crawl asks for its first status page (mid-crawl)."""

    def answer(handler) -> bool:
        outage.cut()
        return False  # the mirror answers as usual

    for treaty in treaties:
        server.respond(target(treaty), answer)


def rows(session_factory) -> dict[str, Any]:
    with session_factory() as session:
        source = session.scalars(select(Source)).one_or_none()
        return {
            "snapshots": list(session.scalars(select(Snapshot).order_by(Snapshot.fetched_at))),
            "quarantine": session.scalar(select(func.count()).select_from(Quarantine)),
            "receipts": session.scalar(select(func.count()).select_from(IngestReceipt)),
            "last_success_at": source.last_success_at if source else None,
        }


def spooled(spool: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(spool.glob("*.json"))]


def test_pages_fetched_during_an_outage_are_spooled_then_recovered_once(
    cli_env, tmp_path, outage, session_factory
):
    data = tmp_path / "data"
    env = crawl_env(cli_env, data, TRACKER_DATABASE_URL=outage.url, TRACKER_INGEST_RETRIES="2")
    spool = data / "spool"
    pages = [RecordedPage(t, status_body(t), t) for t in (A, B)]
    with serve(build_mirror(tmp_path / "mirror", untc_site(pages))) as server:
        cut_on_first_status_request(server, outage, A, B)
        down = crawl(env, server.base_url, A, B)
    s = down.summary
    assert down.returncode != 0 and s["ok"] is False, s
    assert (s["asked"], s["failed"], s["spooled"], s["lost"]) == (2, 2, 2, 0), s
    down.assert_balanced()
    assert s["recorded"] is False  # the crawl itself could not be recorded either
    assert all("kept in the spool" in p["reason"] for p in s["problems"]), s["problems"]
    kept = spooled(spool)
    assert sorted(k["expected_treaty"] for k in kept) == [A, B]
    for k in kept:
        assert k["url"].startswith(server.base_url) and k["content_type"].startswith("text/html")
        assert k["revalidated"] is False and "database error" in k["reason"]
        assert datetime.fromisoformat(k["fetched_at"]).tzinfo is not None
    assert not list(spool.glob(".*"))  # written atomically: no temporary file left
    outage.restore()
    assert rows(session_factory)["snapshots"] == []

    copies = tmp_path / "copies"
    shutil.copytree(spool, copies)
    recover = tracker(env, "ingest", "--spool")
    assert recover.returncode == 0, recover.stdout + recover.stderr
    assert recover.stdout.count("accepted") == 2 and "2 recovered, 0 left" in recover.stdout
    assert spooled(spool) == []
    after = rows(session_factory)
    # Stored with the time they were fetched, not the time they were recovered.
    assert sorted(snap.fetched_at for snap in after["snapshots"]) == sorted(
        datetime.fromisoformat(k["fetched_at"]) for k in kept
    )
    assert after["receipts"] == 2

    # Recovery interrupted after storing but before deleting (the files are back): nothing is
    # ingested twice; the files go.
    for copy in copies.iterdir():
        shutil.copy(copy, spool / copy.name)
    again = tracker(env, "ingest", "--spool")
    assert again.returncode == 0 and "2 recovered, 0 left" in again.stdout, again.stdout
    assert spooled(spool) == []
    assert [x.id for x in rows(session_factory)["snapshots"]] == [x.id for x in after["snapshots"]]
    assert rows(session_factory)["quarantine"] == 0
    nothing = tracker(env, "ingest", "--spool")
    assert nothing.returncode == 0 and "0 recovered, 0 left" in nothing.stdout


def test_the_next_crawl_recovers_the_spool_before_its_own_pages(
    cli_env, tmp_path, outage, session_factory
):
    data = tmp_path / "data"
    env = crawl_env(cli_env, data, TRACKER_DATABASE_URL=outage.url, TRACKER_INGEST_RETRIES="1")
    pages = [RecordedPage(A, status_body(A), A)]
    with serve(build_mirror(tmp_path / "mirror", untc_site(pages))) as server:
        first = crawl(env, server.base_url, A)
        assert first.returncode == 0
        good = rows(session_factory)["last_success_at"]

        cut_on_first_status_request(server, outage, A)
        down = crawl(env, server.base_url, A)  # the page is a 304: the cached body is spooled
        s = down.summary
        assert down.returncode != 0 and (s["failed"], s["spooled"], s["revalidated"]) == (1, 1, 1)
        (kept,) = spooled(data / "spool")
        assert kept["revalidated"] is True  # a 304's cached copy, flagged as such
        outage.restore()
        assert rows(session_factory)["last_success_at"] == good  # the outage is no success

        server.respond(target(A), None)
        back = crawl(env, server.base_url, A)
    s = back.summary
    assert back.returncode == 0 and s["spool"] == {**s["spool"], "recovered": 1, "left": 0}, s
    assert s["unchanged"] == 1
    assert spooled(data / "spool") == []
    after = rows(session_factory)
    assert len(after["snapshots"]) == 1 and after["last_success_at"] > good


def test_a_short_outage_is_ridden_out_by_retries(cli_env, tmp_path, outage, session_factory):
    env = crawl_env(
        cli_env, tmp_path / "data", TRACKER_DATABASE_URL=outage.url, TRACKER_INGEST_RETRIES="3"
    )
    pages = [RecordedPage(A, status_body(A), A)]
    with serve(build_mirror(tmp_path / "mirror", untc_site(pages))) as server:

        def answer(handler) -> bool:
            outage.cut()
            threading.Timer(1.0, outage.restore).start()  # back within the retries' backoff
            return False

        server.respond(target(A), answer)
        result = crawl(env, server.base_url, A)
    s = result.summary
    assert result.returncode == 0, s
    assert (s["accepted"], s["failed"], s["spooled"], s["recorded"]) == (1, 0, 0, True), s
    assert spooled(tmp_path / "data" / "spool") == []
    assert len(rows(session_factory)["snapshots"]) == 1
