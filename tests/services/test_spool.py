"""The spool: pages fetched but not stored, written atomically, recovered in fetch order with
their fetch time, at most once, and deleted only once stored."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from sqlalchemy import create_engine, func, select
from statuses import at, counts, member, page, status

from db.engine import make_session_factory
from db.models import IngestReceipt, Quarantine, Snapshot
from tracker.services.spool import (
    SpoolError,
    read_spooled,
    recover_spool,
    spool_files,
    spool_page,
    with_retries,
)

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
V1 = status(AUT, as_at=at("2019-01-01"))
V2 = status(AUT, DZA, as_at=at("2019-02-01"))


@pytest.fixture
def spool(tmp_path):
    return tmp_path / "spool"


def test_a_spooled_page_reads_back_exactly(spool):
    fetched = dataclasses.replace(
        page(V1, "2019-01-02"), expected_treaty="XXVI-9", content_type="text/html", revalidated=True
    )
    path = spool_page(spool, fetched, "database error: locked")
    assert path.parent == spool and path.name.startswith("20190102T120000")
    assert [p.name for p in spool.iterdir()] == [path.name]  # no temporary file left
    back = read_spooled(path)
    assert back.page == fetched and back.reason == "database error: locked"
    assert spool_page(spool, fetched, "again") == path  # the same fetch: the same file
    record = json.loads(path.read_text())
    assert {"url", "fetched_at", "expected_treaty", "content_type", "revalidated", "body"} <= set(
        record
    )


@pytest.mark.parametrize("damage", ["truncate", "edit_body", "edit_time", "not_json"])
def test_a_damaged_spool_file_is_refused(spool, damage):
    path = spool_page(spool, page(V1, "2019-01-02"), "x")
    text = path.read_text()
    record = json.loads(text)
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "edit_body":
        path.write_text(json.dumps({**record, "body": "aGVsbG8="}))
    elif damage == "edit_time":
        path.write_text(json.dumps({**record, "fetched_at": "2019-01-03T12:00:00+00:00"}))
    else:
        path.write_text("hello")
    with pytest.raises(SpoolError):
        read_spooled(path)


def test_recovery_stores_pages_oldest_first_with_their_fetch_time_once(
    session_factory, spool, tmp_path
):
    spool_page(spool, page(V2, "2019-02-02"), "down")  # written first, fetched later
    spool_page(spool, page(V1, "2019-01-02"), "down")
    copies = tmp_path / "copies"
    shutil.copytree(spool, copies)
    done = recover_spool(session_factory, spool)
    assert [r.outcome for _, r in done.recovered] == ["accepted", "accepted"]
    assert done.left == [] and spool_files(spool) == []
    with session_factory() as session:
        times = session.scalars(select(Snapshot.fetched_at).order_by(Snapshot.id)).all()
    assert times == [at("2019-01-02"), at("2019-02-02")]  # in order: no out-of-order quarantine
    before = counts(session_factory)
    for copy in copies.iterdir():  # a crash between storing and deleting: the files are back
        shutil.copy(copy, spool / copy.name)
    again = recover_spool(session_factory, spool)
    assert [r.reason for _, r in again.recovered] == ["already ingested (spool receipt)"] * 2
    assert counts(session_factory) == before and spool_files(spool) == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(IngestReceipt)) == 2


def test_a_quarantined_spooled_page_is_quarantined_once(session_factory, spool):
    spool_page(spool, page(b"REJECT: maintenance page", "2019-01-02"), "down")
    (path,) = spool_files(spool)
    saved = path.read_bytes()
    assert recover_spool(session_factory, spool).recovered[0][1].outcome == "quarantined"
    path.write_bytes(saved)
    assert recover_spool(session_factory, spool).recovered[0][1].outcome == "quarantined"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Quarantine)) == 1


def test_unreadable_files_and_database_errors_leave_files_in_place(
    spool, session_factory, tmp_path
):
    spool_page(spool, page(V1, "2019-01-02"), "down")
    bad = spool / "20190101T000000000000Z-bad.json"
    bad.write_text("{")
    dead = make_session_factory(create_engine(f"sqlite:///{tmp_path / 'nodir' / 'x' / 'db'}"))
    slept = []
    down = recover_spool(dead, spool, retries=2, sleep=slept.append)
    assert slept == [0.5, 1.0]  # a short backoff between tries
    assert len(down.recovered) == 0 and len(down.left) == 2
    assert "unreadable" in down.left[0][1] and "database error" in down.left[1][1]
    assert len(spool_files(spool)) == 2  # nothing deleted that was not stored
    up = recover_spool(session_factory, spool)
    assert len(up.recovered) == 1 and [p.name for p, _ in up.left] == [bad.name]
    assert spool_files(spool) == [bad]


def test_with_retries_retries_database_errors_only():
    from sqlalchemy.exc import OperationalError

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("select", {}, Exception("database is locked"))
        return "stored"

    assert with_retries(flaky, 3, sleep=lambda s: None) == "stored" and len(calls) == 3
    with pytest.raises(ValueError):
        with_retries(lambda: (_ for _ in ()).throw(ValueError("bug")), 3, sleep=lambda s: None)


def test_a_page_that_cannot_be_ingested_is_left_and_the_others_are_recovered(
    session_factory, spool
):
    spool_page(spool, dataclasses.replace(page(V1, "2019-01-01"), source="nosuch"), "down")
    spool_page(spool, page(V1, "2019-01-02"), "down")
    done = recover_spool(session_factory, spool)
    assert [r.outcome for _, r in done.recovered] == ["accepted"]
    ((left, why),) = done.left
    assert "ingest error: UnknownSource: unknown source 'nosuch'" in why and spool_files(spool) == [
        left
    ]
