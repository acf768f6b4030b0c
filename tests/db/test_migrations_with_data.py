"""Migrations on a database that holds rows: upgrade and downgrade keep every row, and every
foreign key still resolves (SQLite rebuilds tables in batch mode; PostgreSQL alters in place).

Rows are written at the starting revision from the reflected schema of that revision (not from
db.models, which describe head), two per table, every foreign key column (nullable ones too)
pointing at a row of its parent table.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from db.engine import make_engine
from db.migrate import current, downgrade, head, upgrade

# slow: every migration up and down over filled tables, 1.5-3 s each
pytestmark = [pytest.mark.db, pytest.mark.slow]

ROWS = 2
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
# Columns under a CHECK constraint take one of their allowed values.
ALLOWED: dict[tuple[str, str], str] = {
    ("events", "state"): "final",
    ("deliveries", "state"): "pending",
    ("subscriptions", "state"): "active",
    ("subscriptions", "channel"): "webhook",
    ("subscriptions", "digest"): "immediate",
    ("quarantine", "kind"): "rejected_page",
    ("sources", "health_state"): "healthy",
    ("sources", "alert_state"): "healthy",
}


def _value(table: sa.Table, column: sa.Column[Any], row: int) -> Any:
    if column.foreign_keys:
        return row  # the parent table's row with the same id
    if (table.name, column.name) in ALLOWED:
        return ALLOWED[(table.name, column.name)]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return row
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return date(2026, 1, row)
    if isinstance(kind, sa.JSON):
        return {} if table.name != "subscriptions" else []
    if isinstance(kind, sa.LargeBinary):
        return b"page %d" % row
    if isinstance(kind, sa.String | sa.Text):
        length = getattr(kind, "length", None) or 64
        return f"{column.name[:8]}-{row}"[:length]
    raise AssertionError(f"no test value for {table.name}.{column.name} ({kind!r})")


def _reflect(connection: sa.Connection) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def _fill(url: str) -> dict[str, int]:
    """Write ROWS rows into every table of the database as it is; return the row counts."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            tables = _reflect(connection)
            for table in tables:
                rows = [
                    {c.name: _value(table, c, row) for c in table.columns}
                    for row in range(1, ROWS + 1)
                ]
                connection.execute(table.insert(), rows)
        return {t.name: ROWS for t in tables}
    finally:
        engine.dispose()


def _counts(connection: sa.Connection, names: set[str]) -> dict[str, int]:
    return {n: connection.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def _dangling(connection: sa.Connection) -> list[str]:
    """Every foreign key value with no parent row, found with plain joins (any dialect)."""
    found = []
    for table in _reflect(connection):
        for fk in table.foreign_key_constraints:
            (column,) = fk.column_keys
            (element,) = fk.elements
            parent = element.column.table.name
            sql = (
                f'SELECT count(*) FROM "{table.name}" c LEFT JOIN "{parent}" p '
                f'ON p.id = c."{column}" WHERE c."{column}" IS NOT NULL AND p.id IS NULL'
            )
            missing = connection.execute(text(sql)).scalar_one()
            if missing:
                found.append(f"{table.name}.{column} -> {parent}: {missing}")
    return found


def _assert_intact(url: str, expected: dict[str, int]) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert _counts(connection, set(expected)) == expected
            assert _dangling(connection) == []
            # The reference the bug was about: a delivery still reaches its event.
            if "deliveries" in expected:
                resolved = connection.execute(
                    text(
                        "SELECT d.id, e.id, e.kind FROM deliveries d "
                        "JOIN events e ON e.id = d.event_id "
                        "JOIN subscriptions s ON s.id = d.subscription_id ORDER BY d.id"
                    )
                ).all()
                assert [tuple(r) for r in resolved] == [(1, 1, "kind-1"), (2, 2, "kind-2")]
            if connection.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


# 0001: before deliveries (0004 and 0007 rebuild events and sources under treaties, quarantine);
# 0003: the first with deliveries (0004 rebuilds events under them, 0005 deliveries itself);
# 0008: the review's case (0009 rebuilds events under deliveries).
@pytest.mark.parametrize("start", ["0001", "0003", "0008"])
def test_upgrade_to_head_and_back_keeps_every_row(empty_db_url, start):
    upgrade(empty_db_url, start)
    expected = _fill(empty_db_url)
    assert "events" in expected and ("deliveries" in expected) == (start != "0001")

    assert upgrade(empty_db_url) is True
    assert current(empty_db_url) == head()
    _assert_intact(empty_db_url, expected)

    downgrade(empty_db_url, start)
    assert current(empty_db_url) == start
    _assert_intact(empty_db_url, expected)

    assert upgrade(empty_db_url) is True  # and up again, over the same rows
    _assert_intact(empty_db_url, expected)


def test_downgrade_from_head_keeps_a_disputed_event_and_its_deliveries(empty_db_url):
    """0009 down: a disputed (held) event becomes a retracted one; rows that point at it stay."""
    upgrade(empty_db_url, "0008")
    expected = _fill(empty_db_url)
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE events SET state = 'disputed', once_key = 'entered' WHERE id = 2")
            )
    finally:
        engine.dispose()

    downgrade(empty_db_url, "0008")
    _assert_intact(empty_db_url, expected)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            states = connection.execute(text("SELECT id, state, once_key FROM events ORDER BY id"))
            assert [tuple(r) for r in states] == [
                (1, "final", "once_key-1"),
                (2, "retracted", None),
            ]
    finally:
        engine.dispose()


def _sqlite_only(url: str) -> None:
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's foreign key switch and check (PostgreSQL alters tables in place)")


def test_a_migration_that_leaves_a_dangling_reference_is_refused_and_rolled_back(empty_db_url):
    from db.migrate import ForeignKeyViolation, _run_checked, _sqlite_foreign_keys_off

    _sqlite_only(empty_db_url)
    upgrade(empty_db_url)
    expected = _fill(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            with (
                pytest.raises(ForeignKeyViolation, match=r"deliveries row 1 -> events"),
                _sqlite_foreign_keys_off(connection),
                connection.begin(),
            ):
                _run_checked(
                    connection, lambda: connection.execute(text("DELETE FROM events WHERE id = 1"))
                )
            # Rolled back, and enforcement is on again on the very same connection.
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            connection.rollback()
    finally:
        engine.dispose()
    _assert_intact(empty_db_url, expected)


def test_foreign_keys_cannot_be_switched_off_inside_a_transaction(empty_db_url):
    from db.migrate import _sqlite_foreign_keys_off

    _sqlite_only(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))  # autobegins
            with (
                pytest.raises(RuntimeError, match="outside a transaction"),
                _sqlite_foreign_keys_off(connection),
            ):
                pass
            connection.rollback()
            with _sqlite_foreign_keys_off(connection):
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
                connection.rollback()
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_dangling_reference_from_before_does_not_block_the_upgrade(empty_db_url):
    """A row that already pointed at nothing (written with enforcement off) is not the
    migration's doing: the upgrade runs, and the row is left as it was, still dangling."""
    _sqlite_only(empty_db_url)
    upgrade(empty_db_url, "0008")
    _fill(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            dbapi = connection.connection.driver_connection
            dbapi.execute("PRAGMA foreign_keys=OFF")  # before any BEGIN, else SQLite ignores it
            assert dbapi.execute("PRAGMA foreign_keys").fetchone()[0] == 0
            with connection.begin():
                connection.execute(
                    text(
                        "INSERT INTO deliveries (id, event_id, subscription_id, idempotency_key, "
                        "state, attempts, due_at, created_at) "
                        "VALUES (3, 99, 1, 'orphan', 'pending', 0, :t, :t)"
                    ),
                    {"t": "2026-12-01 09:30:00.000000"},
                )
    finally:
        engine.dispose()

    assert upgrade(empty_db_url) is True
    assert current(empty_db_url) == head()
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            left = connection.execute(text("PRAGMA foreign_key_check")).all()
            assert [(r[0], r[1], r[2]) for r in left] == [("deliveries", 3, "events")]
            assert connection.execute(text("SELECT count(*) FROM events")).scalar() == ROWS
    finally:
        engine.dispose()


def test_0010_copies_each_snapshots_in_force_reading_into_its_data_and_back(empty_db_url):
    """0010 up: a status stored without `in_force` gets the reading its column kept at ingest
    (True, False or unknown), so an old page reads as it did; down takes it out again."""
    upgrade(empty_db_url, "0009")
    _fill(empty_db_url)
    engine = make_engine(empty_db_url)
    stored = {"treaty_id": "XXVI-9", "title": "T", "eif_label": "Not yet in force"}
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE snapshots SET in_force = :f, data = :d WHERE id = 1"),
                {"f": False, "d": json.dumps(stored)},
            )
            connection.execute(text("UPDATE snapshots SET in_force = NULL WHERE id = 2"))
        upgrade(empty_db_url, "0010")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, data FROM snapshots ORDER BY id")).all()
        datas = [r[1] if isinstance(r[1], dict) else json.loads(r[1]) for r in rows]
        assert datas == [stored | {"in_force": False}, {"in_force": None}]
        downgrade(empty_db_url, "0009")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, data FROM snapshots ORDER BY id")).all()
        assert [r[1] if isinstance(r[1], dict) else json.loads(r[1]) for r in rows] == [stored, {}]
    finally:
        engine.dispose()
