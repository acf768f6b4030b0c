"""Fixtures of the fault-injection suite: fresh databases for module-long scenarios, a webhook
receiver, and the verdict that records each fault's outcome (support/fault_record.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from support.alert_receivers import WebhookReceiver
from support.fault_record import Verdict

TEST_DATABASE_ENV = "TRACKER_TEST_DATABASE_URL"


def _search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def new_database(
    _backend, _pg_admin: Engine | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Make a migrated (SQLite) or empty (PostgreSQL schema) database: `new_database(label)`.
    Each call is a database of its own; PostgreSQL schemas are dropped at the end."""
    schemas: list[str] = []

    def make(label: str) -> str:
        if _pg_admin is None:
            target = tmp_path_factory.mktemp(f"db-{label}") / "tracker.sqlite3"
            shutil.copyfile(_backend.template, target)
            return f"sqlite:///{target}"
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        schema = f"faults_{label}_{worker}_{uuid.uuid4().hex[:6]}".lower().replace("-", "_")
        with _pg_admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return _search_path(os.environ[TEST_DATABASE_ENV], schema)

    yield make
    for schema in schemas:
        assert _pg_admin is not None
        with _pg_admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    """A real webhook receiver on 127.0.0.1 (answers 204)."""
    found = WebhookReceiver().start()
    yield found
    found.stop()


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Callable[..., Verdict]:
    def make(fault: str, group: str, expected: str = "", kind: str = "fault") -> Verdict:
        return Verdict(request, fault, group, expected, kind)

    return make
