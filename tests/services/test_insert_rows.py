"""repository.insert_rows (the driver's executemany, values bound here) stores what SQLAlchemy's
own executemany of the same rows stores, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from db import unit_of_work
from db.models import ActionRow, Snapshot
from tracker.domain.models import Participant
from tracker.services.repository import (
    get_or_create_source,
    insert_rows,
    lock_treaty,
    store_raw_page,
    table_of,
    upsert_participants,
)

pytestmark = pytest.mark.db

ACTIONS = table_of(ActionRow)
COLUMNS = (
    "treaty_id", "participant_id", "printed_name", "column", "kind", "letter", "legal_date",
    "withdrawn", "first_observed_at", "first_snapshot_id", "ended_snapshot_id",
)  # fmt: skip
AT = datetime(2026, 2, 3, 12, 30, 15, 123456, tzinfo=UTC)


def _parents(session) -> tuple[int, int, list[int]]:
    source = get_or_create_source(session, "untc", "https://treaties.un.org/")
    treaty = lock_treaty(session, source, "XXVI-9", "T")
    raw_id = store_raw_page(session, b"<html/>", "text/html")
    snapshot = Snapshot(
        treaty_id=treaty.id,
        raw_page_id=raw_id,
        content_hash="h",
        fetched_at=AT,
        observed_at=AT,
        url="u",
        data={},
        signatories=0,
        parties=0,
    )
    session.add(snapshot)
    session.flush()
    ids = upsert_participants(session, [Participant(f"P {i}", f"P{i}") for i in range(3)])
    return treaty.id, snapshot.id, [ids[f"P{i}"] for i in range(3)]


def _rows(treaty_id: int, snapshot_id: int, people: list[int]) -> list[tuple]:
    # The same time in another zone, and repeated dates, booleans and nulls: the values that
    # are bound once per distinct value must still be bound as each row's own.
    other_zone = AT.astimezone(timezone(timedelta(hours=-5)))
    return [
        (treaty_id, people[0], "Ä name", "signature", "signature", "", date(2017, 9, 20),
         False, AT, snapshot_id, None),
        (treaty_id, people[1], "B", "consent", "ratification", "", date(2017, 9, 20),
         True, other_zone, snapshot_id, snapshot_id),
        (treaty_id, people[2], "C", "consent", "accession", "a", date(2020, 1, 1),
         False, AT + timedelta(microseconds=1), snapshot_id, None),
    ]  # fmt: skip


def _stored(session) -> list[tuple]:
    """The rows as the database holds them (the driver's values, no SQLAlchemy type read)."""
    names = ", ".join(f'"{name}"' for name in COLUMNS)
    found = session.connection().exec_driver_sql(f"SELECT {names} FROM actions ORDER BY id")
    return [tuple(row) for row in found]


def _read(session) -> list[tuple]:
    columns = [ACTIONS.c[name] for name in COLUMNS]
    return [tuple(row) for row in session.execute(select(*columns).order_by(ACTIONS.c.id))]


def test_the_rows_are_stored_as_sqlalchemy_stores_them(session_factory):
    with unit_of_work.write(session_factory) as session:
        rows = _rows(*_parents(session))
        session.execute(insert(ACTIONS), [dict(zip(COLUMNS, row, strict=True)) for row in rows])
        by_sqlalchemy = _stored(session)
        session.execute(ACTIONS.delete())
        insert_rows(session, ACTIONS, COLUMNS, rows)
        by_insert_rows = _stored(session)
        read = _read(session)
    assert by_insert_rows == by_sqlalchemy
    assert [row[8] for row in read] == [AT, AT, AT + timedelta(microseconds=1)]
    assert [row[7] for row in read] == [False, True, False]


def test_no_rows_run_no_statement(session_factory):
    with unit_of_work.write(session_factory) as session:
        insert_rows(session, ACTIONS, COLUMNS, [])
        assert _stored(session) == []


def test_a_naive_time_is_refused_as_the_column_type_refuses_it(session_factory):
    with unit_of_work.write(session_factory) as session:
        row = list(_rows(*_parents(session))[0])
        row[8] = AT.replace(tzinfo=None)
        with pytest.raises(ValueError, match="naive datetime"):
            insert_rows(session, ACTIONS, COLUMNS, [tuple(row)])


def test_columns_in_another_order_than_the_tables_are_stored_in_their_own(session_factory):
    with unit_of_work.write(session_factory) as session:
        rows = _rows(*_parents(session))
        insert_rows(session, ACTIONS, COLUMNS, rows)
        in_table_order = _stored(session)
        session.execute(ACTIONS.delete())
        backwards = tuple(reversed(COLUMNS))
        insert_rows(session, ACTIONS, backwards, [tuple(reversed(row)) for row in rows])
        assert _stored(session) == in_table_order
