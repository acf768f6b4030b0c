"""Shared fixtures: a migrated database per test (SQLite file or PostgreSQL schema), settings.

SQLite (default): migrate once per session into a template file, copy it for each test.
PostgreSQL (TRACKER_TEST_DATABASE_URL set): one schema per test session and xdist worker,
migrated once, every table truncated after each test, the schema dropped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.base import Base
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tracker.settings import Settings
from tracker.sources import registry

TEST_DATABASE_ENV = "TRACKER_TEST_DATABASE_URL"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def with_search_path(url: str, schema: str) -> str:
    """Return a PostgreSQL URL whose connections use `schema` (options=-csearch_path=...)."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _new_schema(admin: Engine, label: str) -> str:
    schema = f"tracker_{label}_{_worker()}_{uuid.uuid4().hex[:8]}".lower()
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema


def _drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@dataclass(frozen=True)
class _Backend:
    """The session's migrated database: a SQLite template file, or a PostgreSQL schema URL."""

    template: Path | None = None
    url: str | None = None


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[Engine | None]:
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        yield None
        return
    engine = make_engine(base)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _backend(
    tmp_path_factory: pytest.TempPathFactory, _pg_admin: Engine | None
) -> Iterator[_Backend]:
    if _pg_admin is None:
        template = tmp_path_factory.mktemp("db-template") / "template.sqlite3"
        upgrade(f"sqlite:///{template}")
        yield _Backend(template=template)
        return
    schema = _new_schema(_pg_admin, "test")
    url = with_search_path(os.environ[TEST_DATABASE_ENV], schema)
    upgrade(url)
    yield _Backend(url=url)
    _drop_schema(_pg_admin, schema)


@pytest.fixture
def db_url(_backend: _Backend, _pg_admin: Engine | None, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for this test."""
    if _backend.template is not None:
        target = tmp_path / "db" / "tracker.sqlite3"
        target.parent.mkdir()
        shutil.copyfile(_backend.template, target)
        yield f"sqlite:///{target}"
        return
    assert _backend.url is not None and _pg_admin is not None
    yield _backend.url
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = make_engine(_backend.url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def empty_db_url(_pg_admin: Engine | None, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for migration tests)."""
    if _pg_admin is None:
        yield f"sqlite:///{tmp_path / 'empty' / 'tracker.sqlite3'}"
        return
    schema = _new_schema(_pg_admin, "empty")
    yield with_search_path(os.environ[TEST_DATABASE_ENV], schema)
    _drop_schema(_pg_admin, schema)


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings on a temporary data directory and this test's database."""
    return Settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running `tracker` as a subprocess against this test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_DATABASE_URL"] = settings.database_url
    env["TRACKER_DATA_DIR"] = str(settings.data_dir)
    env["TRACKER_BASE_URLS"] = DEAD_BASE_URLS
    return env


# No test reaches a real depositary: every source but UNTC (whose tests point it with the kept
# TRACKER_UNTC_BASE_URL, which TRACKER_BASE_URLS' entry would override) goes to a loopback port
# nothing listens on, unless the test sets TRACKER_BASE_URLS itself (e.g. to its mirror).
DEAD_BASE_URLS = json.dumps(
    {slug: "http://127.0.0.1:9" for slug in registry.slugs() if slug != "untc"}
)


@pytest.fixture
def fake_parser() -> Iterator[None]:
    """Make `tracker.sources.parse("untc", ...)` read JSON statuses (see tests/statuses.py)."""
    from statuses import fake_untc

    with fake_untc():
        yield


# --- the fault-injection suite's record (tests/faults, support/fault_record.py) ----------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Merge what each worker recorded of the faults it tried into one JSON report."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from support.fault_record import write_report

    written = write_report(session.config)
    if written is not None:
        session.config.stash[_FAULTS_REPORT] = written


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    written = terminalreporter.config.stash.get(_FAULTS_REPORT, None)
    if written is not None:
        from support.fault_record import summary_line

        terminalreporter.write_line(summary_line(*written))


_FAULTS_REPORT = pytest.StashKey[tuple[Path, dict]]()
