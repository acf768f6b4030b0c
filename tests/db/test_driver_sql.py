"""db.driver_sql (a statement run as the driver's SQL) does what SQLAlchemy's execute of the same
statement does, on SQLite and on PostgreSQL; unit_of_work.Writer's units are transactions on one
held connection, and one that fails leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, or_, select, update

from db import unit_of_work
from db.driver_sql import DriverSQL
from db.models import Source
from tracker.services.repository import get_or_create_source

pytestmark = pytest.mark.db

AT = datetime(2026, 2, 3, 12, 30, 15, 123456, tzinfo=UTC)


def _sources(session_factory, n: int) -> list[int]:
    with unit_of_work.write(session_factory) as session:
        return [
            get_or_create_source(session, f"s{i}", f"https://s{i}.example/").id for i in range(n)
        ]


def _checked(slug_constant: str):
    """An UPDATE with the caller's values (an id, a time), constants of its own (a string, an
    integer, an OR of strings) and RETURNING."""
    return (
        update(Source)
        .where(
            Source.id == bindparam("one"),
            or_(Source.slug == slug_constant, Source.slug == "s1", Source.slug == "s2"),
        )
        .values(last_checked_at=bindparam("at"), base_url=Source.base_url + "/x")
        .returning(Source.id, Source.slug)
    )


def test_a_driver_statement_changes_what_sqlalchemys_execute_changes(session_factory) -> None:
    ids = _sources(session_factory, 3)
    other_zone = AT.astimezone(timezone(timedelta(hours=-5)))  # bound as the column binds it
    driver = DriverSQL(_checked("s0"))
    with unit_of_work.write(session_factory) as session:
        got = driver.execute(session.connection(), {"one": ids[0], "at": other_zone}).all()
        want = session.execute(_checked("s0"), {"one": ids[1], "at": other_zone}).all()
        missed = driver.execute(session.connection(), {"one": 10_000, "at": AT}).all()
    assert [tuple(r) for r in got] == [(ids[0], "s0")]
    assert [tuple(r) for r in want] == [(ids[1], "s1")] and missed == []
    with unit_of_work.read(session_factory) as session:
        rows = {s.id: s for s in session.scalars(select(Source))}
    assert rows[ids[0]].last_checked_at == rows[ids[1]].last_checked_at == AT
    assert rows[ids[0]].base_url == "https://s0.example/x"  # the constant "/x" bound too
    assert rows[ids[2]].last_checked_at is None


def test_a_missing_value_and_an_expanding_parameter_are_refused(session_factory) -> None:
    ids = _sources(session_factory, 1)
    with unit_of_work.write(session_factory) as session, pytest.raises(KeyError, match="at"):
        DriverSQL(_checked("s0")).execute(session.connection(), {"one": ids[0]})
    expanding = update(Source).where(Source.id.in_([1, 2])).values(base_url="u")
    with unit_of_work.write(session_factory) as session, pytest.raises(ValueError) as refused:
        DriverSQL(expanding).execute(session.connection(), {})
    assert "expanding IN parameter" in str(refused.value)


def _moved():
    """An UPDATE of the caller's values (an id, a time) and a constant, without RETURNING (of
    the Core table: a session's executemany of the mapped class is an ORM bulk update)."""
    table = Source.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("one"))
        .values(last_checked_at=bindparam("at"), base_url=table.c.base_url + "/x")
    )


def test_execute_many_changes_what_sqlalchemys_executemany_changes(session_factory) -> None:
    ids = _sources(session_factory, 6)
    other_zone = AT.astimezone(timezone(timedelta(hours=-5)))
    # Repeated values, None, and the names in another order than the statement binds them.
    values = [(AT, ids[0]), (other_zone, ids[1]), (None, ids[2])]
    with unit_of_work.write(session_factory) as session:
        DriverSQL(_moved()).execute_many(session.connection(), ("at", "one"), values)
        session.execute(_moved(), [{"at": at, "one": one + 3} for at, one in values])
        DriverSQL(_moved()).execute_many(session.connection(), ("at", "one"), [])
    with unit_of_work.read(session_factory) as session:
        names = "id, last_checked_at, base_url"
        found = session.connection().exec_driver_sql(f"SELECT {names} FROM sources ORDER BY id")
        stored = {row[0]: tuple(row[1:]) for row in found}
    times = [stored[i][0] for i in ids]  # as the driver holds them, not as SQLAlchemy reads them
    assert times[:3] == times[3:]
    assert times[2] is None and times[0] == times[1] is not None  # the same moment, bound alike
    assert all(stored[i][1] == f"https://s{n}.example/x" for n, i in enumerate(ids))


def test_execute_many_refuses_names_that_are_not_the_statements(session_factory) -> None:
    ids = _sources(session_factory, 1)
    for names in (("one",), ("at", "one", "extra"), ("at", "two")):
        with unit_of_work.write(session_factory) as session, pytest.raises(ValueError):
            rows = [(AT, ids[0], 1)[: len(names)]]
            DriverSQL(_moved()).execute_many(session.connection(), names, rows)


def test_a_writers_units_commit_on_one_connection_and_a_failed_one_leaves_nothing(
    session_factory,
) -> None:
    ids = _sources(session_factory, 2)
    driver = DriverSQL(_checked("s0"))
    with unit_of_work.Writer(session_factory) as writer:
        with writer.unit() as first:
            driver.execute(first, {"one": ids[0], "at": AT})
        with writer.unit() as second:
            driver.execute(second, {"one": ids[1], "at": AT})
        assert second is first  # held, not one checkout per unit
        with pytest.raises(RuntimeError), writer.unit() as third:
            third.execute(update(Source).values(base_url="spoiled"))
            raise RuntimeError("the unit fails after its write")
        with writer.unit() as fourth:  # a new connection after the failure, and it works
            assert fourth is not first
            count = fourth.execute(select(func.count()).select_from(Source)).scalar_one()
    assert count == 2
    with unit_of_work.read(session_factory) as session:
        rows = {s.id: s for s in session.scalars(select(Source))}
    assert all(s.last_checked_at == AT for s in rows.values())  # both units committed
    assert not any(s.base_url == "spoiled" for s in rows.values())  # the failed one rolled back
