"""Ingest outcomes: accepted, unchanged (zero rows), quarantined, rejected; crawl bookkeeping."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from statuses import TREATY, at, counts, member, page, status

from db.models import Participant, Quarantine, RawPage, Snapshot, Source, Treaty
from tracker.services.crawl_records import record_crawl, record_fetch_failure
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.repository import RAW_COMPRESSION, raw_body

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]


def load_raw_body(session, raw_page_id: int) -> bytes:
    """The original bytes of a stored raw page."""
    row = session.get_one(RawPage, raw_page_id)
    assert row.compression == RAW_COMPRESSION
    return raw_body(row.compression, row.body)


AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
COK = member("Cook Islands", "COK", consent="2018-09-04", letter="a")
BASE = status(AUT, DZA, COK, as_at=at("2019-01-01"))


def test_first_page_is_accepted_as_a_baseline_without_events(session_factory):
    result = ingest_page(session_factory, page(BASE, "2019-01-02"))
    assert (result.outcome, result.treaty_id, result.events) == ("accepted", "XXVI-9", 0)
    assert counts(session_factory) == {
        "sources": 1,
        "treaties": 1,
        "raw_pages": 1,
        "snapshots": 1,
        "participants": 3,
        "actions": 4,
        "events": 0,
        "quarantine": 0,
        "condition_confirmations": 0,
        "subscriptions": 0,
        "deliveries": 0,
        "ingest_receipts": 0,
        "format_agreements": 0,
    }
    with session_factory() as session:
        snap = session.get_one(Snapshot, result.snapshot_id)
        assert (snap.signatories, snap.parties, snap.observed_at) == (2, 2, at("2019-01-02"))
        assert snap.content_hash == BASE.content_hash()
        assert snap.status_as_at == at("2019-01-01")
        assert load_raw_body(session, snap.raw_page_id) == page(BASE, "2019-01-02").body
        assert session.scalars(select(RawPage.size)).one() == len(page(BASE, "2019-01-02").body)
        treaty = session.scalars(select(Treaty)).one()
        assert (treaty.external_id, treaty.last_checked_at) == ("XXVI-9", at("2019-01-02"))
        assert session.scalars(select(Source.base_url)).one() == "https://treaties.example"


def test_unchanged_content_adds_no_rows_and_touches_last_checked(session_factory):
    first = ingest_page(session_factory, page(BASE, "2019-01-02"))
    before = counts(session_factory)
    restamped = status(AUT, DZA, COK, as_at=at("2019-03-01"))  # only the printed stamp differs
    result = ingest_page(session_factory, page(restamped, "2019-03-02"))
    assert (result.outcome, result.snapshot_id, result.events) == (
        "unchanged",
        first.snapshot_id,
        0,
    )
    assert counts(session_factory) == before
    with session_factory() as session:
        assert session.scalars(select(Treaty.last_checked_at)).one() == at("2019-03-02")
        assert session.scalars(select(Source.last_checked_at)).one() == at("2019-03-02")


def test_a_byte_identical_copy_moves_the_checks_forward_never_back(session_factory):
    """The 304 path (same bytes as the latest snapshot): the treaty's and the source's last
    check and the history format's last observation move to the copy's times, and a copy
    fetched earlier than one already counted (a spooled page stored late) moves none back."""
    first = ingest_page(session_factory, page(BASE, "2019-01-02"))

    def checks() -> tuple:
        with session_factory() as session:
            treaty = session.scalars(select(Treaty)).one()
            source = session.scalars(select(Source)).one()
            return treaty.last_checked_at, treaty.history_observed_at, source.last_checked_at

    before = counts(session_factory)
    for fetched in ("2019-03-02", "2019-02-01"):
        copy = ingest_page(session_factory, page(BASE, fetched, expected_treaty=TREATY))
        assert (copy.outcome, copy.snapshot_id) == ("unchanged", first.snapshot_id)
        assert checks() == (at("2019-03-02"),) * 3
    assert counts(session_factory) == before


def test_rejected_page_is_quarantined_with_its_raw_body_and_marks_the_source(session_factory):
    result = ingest_page(
        session_factory, page(b"REJECT: maintenance page", "2019-01-02", expected_treaty="IV-4")
    )
    assert (result.outcome, result.reason, result.snapshot_id) == (
        "quarantined",
        "maintenance page",
        None,
    )
    with session_factory() as session:
        quarantined = session.scalars(select(Quarantine)).one()
        assert (quarantined.kind, quarantined.expected_treaty) == ("rejected_page", "IV-4")
        assert quarantined.reason == "maintenance page"
        assert load_raw_body(session, quarantined.raw_page_id) == b"REJECT: maintenance page"
        source = session.scalars(select(Source)).one()
        # A page that fails validation marks the source unhealthy at once.
        assert (source.healthy, source.last_error) == (False, "maintenance page")
    assert counts(session_factory)["snapshots"] == 0
    assert counts(session_factory)["treaties"] == 0


def test_a_parser_crash_keeps_the_page_in_quarantine(session_factory):
    result = ingest_page(session_factory, page(b"CRASH", "2019-01-02"))
    assert result.outcome == "quarantined"
    assert result.reason == "parser error: RuntimeError: parser bug"
    assert counts(session_factory)["quarantine"] == 1


def test_identical_raw_bodies_are_stored_once(session_factory):
    for day in ("2019-01-02", "2019-01-03"):
        ingest_page(session_factory, page(b"REJECT: maintenance page", day))
    assert counts(session_factory)["raw_pages"] == 1
    assert counts(session_factory)["quarantine"] == 2


def test_page_older_than_the_latest_snapshot_is_rejected_and_kept(session_factory):
    ingest_page(session_factory, page(BASE, "2019-06-01"))
    record_crawl(session_factory, "untc", {"pages": 1}, True, None, at("2019-06-01"))
    before = counts(session_factory)
    older = status(AUT, DZA, as_at=at("2019-01-01"))
    result = ingest_page(session_factory, page(older, "2019-06-02", observed="2019-01-01"))
    assert result.outcome == "rejected"
    assert result.reason == (
        "older than the latest snapshot (observed 2019-06-01T12:00:00+00:00); "
        "ingest archives in date order"
    )
    after = counts(session_factory)
    assert after["snapshots"] == before["snapshots"] and after["events"] == 0
    assert after["quarantine"] == 1 and after["raw_pages"] == 2
    with session_factory() as session:
        assert session.scalars(select(Quarantine.kind)).one() == "out_of_order"
        source = session.scalars(select(Source)).one()
        assert (source.healthy, source.last_error) == (True, None)


def test_participants_are_shared_across_treaties(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    other = status(member("Austria", "AUT", sig="2000-01-01"), treaty="IV-4", title="ICCPR")
    ingest_page(session_factory, page(other, "2019-01-02", url="https://treaties.example/IV-4"))
    assert counts(session_factory)["participants"] == 3
    assert counts(session_factory)["treaties"] == 2
    with session_factory() as session:
        assert (
            session.scalars(select(Participant.name).where(Participant.key == "AUT")).one()
            == "Austria"
        )


def test_wrong_treaty_is_quarantined_with_the_treaty_expected(session_factory):
    result = ingest_page(session_factory, page(BASE, "2019-01-02", expected_treaty="IV-4"))
    assert result.outcome == "quarantined" and "expected IV-4" in (result.reason or "")
    assert counts(session_factory)["snapshots"] == 0


def test_record_crawl_updates_the_source_row_and_records_health_changes(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    before = counts(session_factory)
    record_crawl(session_factory, "untc", {"pages": 3}, False, "1 failed", at("2019-01-03"))
    record_crawl(session_factory, "untc", {"pages": 3}, False, "1 failed", at("2019-01-04"))
    with session_factory() as session:
        source = session.scalars(select(Source)).one()
        assert (source.healthy, source.consecutive_failures, source.last_error) == (
            False,
            2,
            "1 failed",
        )
        assert source.last_crawl is not None and source.last_crawl["pages"] == 3
    record_crawl(session_factory, "untc", {"pages": 4}, True, None, at("2019-01-05"))
    with session_factory() as session:
        source = session.scalars(select(Source)).one()
        assert (source.healthy, source.consecutive_failures, source.last_error) == (True, 0, None)
        assert source.last_success_at == at("2019-01-05")
        assert source.last_crawl == {
            "pages": 4,
            "ok": True,
            "error": None,
            "finished_at": at("2019-01-05").isoformat(),
        }
    # Unhealthy for two crawls: one operators' event; healthy for one crawl: not yet.
    assert counts(session_factory) == before | {"events": before["events"] + 1}
    record_crawl(session_factory, "untc", {"pages": 4}, True, None, at("2019-01-06"))
    # The source turned unhealthy, then recovered: two operators' events, nothing else.
    assert counts(session_factory) == before | {"events": before["events"] + 2}


def test_record_fetch_failure_keeps_the_response_and_marks_the_source(session_factory):
    record_crawl(session_factory, "untc", {"pages": 1}, True, None, at("2019-01-01"))
    record_fetch_failure(
        session_factory, "untc", "https://x/p", "HTTP 500", at("2019-01-02"), b"<h1>error</h1>"
    )
    with session_factory() as session:
        row = session.scalars(select(Quarantine)).one()
        assert (row.kind, row.url, row.reason) == ("fetch_failure", "https://x/p", "HTTP 500")
        assert load_raw_body(session, row.raw_page_id) == b"<h1>error</h1>"
        source = session.scalars(select(Source)).one()
        # A fetch failure counts through its crawl (N failed crawls in a row: tracker.services.health).
        assert (source.healthy, source.last_error) == (True, "HTTP 500")
    record_fetch_failure(session_factory, "untc", "https://x/q", "timeout", at("2019-01-03"), None)
    with session_factory() as session:
        assert (
            session.scalars(
                select(Quarantine.raw_page_id).where(Quarantine.url == "https://x/q")
            ).one()
            is None
        )


def test_naive_times_are_refused_before_any_work():
    with pytest.raises(ValueError, match="timezone-aware"):
        FetchedPage("untc", "u", b"x", fetched_at=at("2019-01-01").replace(tzinfo=None))


def test_concurrent_writers_all_succeed(session_factory):
    """Writers in parallel threads (own connections) neither fail on locks nor lose pages."""
    from concurrent.futures import ThreadPoolExecutor

    def crawl(treaty: str) -> list[str]:
        outcomes = []
        for day in range(1, 6):
            people = [member(f"State {treaty} {i}", sig=f"2019-01-0{i}") for i in range(1, day + 1)]
            shared = member("Austria", "AUT", sig="2017-09-20")
            value = status(shared, *people, treaty=treaty, title=treaty)
            url = f"https://treaties.example/{treaty}"
            outcomes.append(
                ingest_page(session_factory, page(value, f"2019-02-0{day}", url=url)).outcome
            )
        return outcomes

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(crawl, ["I-1", "I-2", "I-3", "I-4"]))
    assert results == [["accepted"] * 5] * 4
    assert counts(session_factory)["snapshots"] == 20
    assert counts(session_factory)["participants"] == 1 + 4 * 5


def test_byte_identical_page_is_unchanged_without_reparsing(session_factory, monkeypatch):
    """A 304 hands back the cached bytes: recognised by their hash, the parser is not run again."""
    from tracker import sources

    first = page(
        status(member("Austria", "AUT", sig="2017-09-20")), "2026-02-03", expected_treaty=TREATY
    )
    assert ingest_page(session_factory, first).outcome == "accepted"
    before = counts(session_factory)

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(sources, "parse", no_parse)
    again = page(first.body, "2026-02-04", expected_treaty=TREATY)
    result = ingest_page(session_factory, again)
    assert (result.outcome, result.treaty_id, result.events) == ("unchanged", TREATY, 0)
    assert counts(session_factory) == before


def test_a_page_with_nothing_to_look_up_first_is_ingested_in_one_transaction(session_factory):
    """Without a spool receipt or an expected treaty there is no earlier copy to look up: one
    write transaction for the page, not an empty one before it."""
    from sqlalchemy import event

    engine = session_factory.kw["bind"]
    begun: list[object] = []
    listener = lambda connection: begun.append(connection)
    event.listen(engine, "begin", listener)
    try:
        loose = page(status(member("Austria", "AUT", sig="2017-09-20")), "2026-02-03")
        assert loose.expected_treaty is None
        assert ingest_page(session_factory, loose).outcome == "accepted"
        assert len(begun) == 1
        begun.clear()
        expected = page(BASE, "2026-02-04", expected_treaty=TREATY)
        assert ingest_page(session_factory, expected).outcome == "accepted"
        assert len(begun) == 2  # the earlier copy looked up, then the page
    finally:
        event.remove(engine, "begin", listener)
