"""Migrations: upgrade an empty database to head; the models and the migrations agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from db.base import Base
from db.engine import make_engine, make_session_factory
from db.migrate import current, downgrade, head, upgrade
from db.models import Source

# slow: runs every migration down and up (up to 3 s a test); the fast loop (make test-fast) leaves it to make test
pytestmark = [pytest.mark.db, pytest.mark.slow]

TABLES = {
    "sources",
    "treaties",
    "raw_pages",
    "snapshots",
    "participants",
    "actions",
    "events",
    "quarantine",
}


def test_upgrade_head_on_an_empty_database(empty_db_url):
    assert current(empty_db_url) is None
    assert upgrade(empty_db_url) is True
    assert current(empty_db_url) == head()
    engine = make_engine(empty_db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_upgrade_is_a_noop_when_current(db_url):
    assert current(db_url) == head()
    assert upgrade(db_url) is False


def test_models_match_migrations(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_to_base_then_upgrade_again(empty_db_url):
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    assert current(empty_db_url) is None
    engine = make_engine(empty_db_url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    upgrade(empty_db_url)
    assert current(empty_db_url) == head()


def test_times_come_back_aware_utc(session_factory):
    plus_two = timezone(timedelta(hours=2))
    with session_factory.begin() as session:
        session.add(
            Source(slug="untc", last_checked_at=datetime(2026, 2, 3, 14, 0, tzinfo=plus_two))
        )
    with session_factory() as session:
        checked = session.scalars(select(Source.last_checked_at)).one()
        created = session.scalars(select(Source.created_at)).one()
    assert checked == datetime(2026, 2, 3, 12, 0, tzinfo=UTC)
    assert checked.tzinfo is UTC and created.tzinfo is UTC


def test_naive_times_are_refused(session_factory):
    with pytest.raises(Exception, match="naive datetime"), session_factory.begin() as session:
        session.add(Source(slug="untc", last_checked_at=datetime(2026, 2, 3, 12, 0)))


def test_sqlite_engine_creates_its_directory_and_enforces_foreign_keys(tmp_path):
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert (tmp_path / "nested" / "dir").is_dir()
        assert make_session_factory(engine).kw["bind"] is engine
    finally:
        engine.dispose()


def test_migrations_run_from_any_working_directory(empty_db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert upgrade(empty_db_url) is True
    assert current(empty_db_url) == head()


def test_db_package_imports_nothing_from_tracker_or_spiders():
    import ast
    from pathlib import Path

    import db

    offenders = []
    for path in Path(db.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            )
            module = node.module if isinstance(node, ast.ImportFrom) and node.module else ""
            for name in [*names, module]:
                if name.split(".")[0] in ("tracker", "spiders"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_delivery_states_are_checked_by_the_database(session_factory):
    """Migration 0005: `cancelled` is a delivery state; anything else outside the list is refused."""
    from sqlalchemy.exc import IntegrityError

    from db.models import Delivery, Event, Subscription

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with session_factory.begin() as session:
        sub = Subscription(channel="webhook", target="http://x", state="active")
        events = [Event(kind="signature", observed_at=now, details={}, state="final") for _ in "ab"]
        session.add_all([sub, *events])
        session.flush()
        first, second = ({"event_id": e.id, "subscription_id": sub.id} for e in events)
    common = {"due_at": now, "attempts": 0}
    with session_factory.begin() as session:
        session.add(Delivery(idempotency_key="k1", state="cancelled", **first, **common))
    with pytest.raises(IntegrityError, match=r"(?i)check"), session_factory.begin() as session:
        session.add(Delivery(idempotency_key="k2", state="skipped", **second, **common))
