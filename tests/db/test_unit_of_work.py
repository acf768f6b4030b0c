"""The unit of work: commit, rollback, and a read-then-write that waits for a concurrent writer
on SQLite (IMMEDIATE) where a DEFERRED transaction fails at once with SQLITE_BUSY."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Source
from db.unit_of_work import Database

pytestmark = pytest.mark.db

HOLD_SECONDS = 0.6


def _sources(sessions: sessionmaker[Session]) -> list[str]:
    with unit_of_work.read(sessions) as session:
        return list(session.scalars(select(Source.slug).order_by(Source.slug)))


def test_write_commits_and_rolls_back(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work.write(session_factory) as session:
        session.add(Source(slug="kept"))
    with pytest.raises(RuntimeError), unit_of_work.write(session_factory) as session:
        session.add(Source(slug="dropped"))
        session.flush()
        raise RuntimeError("boom")
    assert _sources(session_factory) == ["kept"]


def test_read_commits_nothing(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work.read(session_factory) as session:
        session.add(Source(slug="never"))
        session.flush()
    assert _sources(session_factory) == []


def test_database_owns_its_engine(db_url: str) -> None:
    with Database.open(db_url) as database:
        with database.write() as session:
            session.add(Source(slug="owned"))
        with database.read() as session:
            assert session.scalar(select(func.count(Source.id))) == 1


def _deferred(sessions: sessionmaker[Session]) -> AbstractContextManager[Session]:
    """The old code path: a transaction begun in SQLite's default DEFERRED mode."""
    return sessions.begin()


def _read_then_write_under_a_held_lock(
    db_url: str,
    sessions: sessionmaker[Session],
    unit: Callable[[sessionmaker[Session]], AbstractContextManager[Session]],
) -> float:
    """Another connection holds a write transaction on the file for HOLD_SECONDS; meanwhile a
    unit reads the sources, then adds one named after what it read. Returns how long it took."""
    path = db_url.removeprefix("sqlite:///")
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO sources (slug, healthy, consecutive_failures, created_at, "
                "health_state_crawls, alert_state_crawls) "
                "VALUES ('other', 0, 0, '2026-01-01 00:00:00', 0, 0)"
            )
            held.set()
            release.wait(HOLD_SECONDS)
            conn.execute("COMMIT")
        finally:
            conn.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with unit(sessions) as session:
            seen = session.scalar(select(func.count(Source.id)))
            session.add(Source(slug=f"after-{seen}"))
        return time.monotonic() - started
    finally:
        release.set()
        thread.join(10)


def test_read_then_write_waits_for_a_concurrent_writer(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's lock modes")
    took = _read_then_write_under_a_held_lock(db_url, session_factory, unit_of_work.write)
    assert took >= HOLD_SECONDS * 0.8  # it waited for the other writer ...
    # ... and read what that writer committed before writing
    assert _sources(session_factory) == ["after-1", "other"]


def test_the_deferred_path_fails_at_once(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    """What the unit of work prevents: the same read-then-write in DEFERRED mode fails with
    SQLITE_BUSY ("database is locked") although the busy timeout is 30 s."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's lock modes")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        _read_then_write_under_a_held_lock(db_url, session_factory, _deferred)
    assert time.monotonic() - started < 10  # far below the busy timeout
    assert _sources(session_factory) == ["other"]
