"""Queries: treaty list, status now and as of a legal date, history."""

from __future__ import annotations

from datetime import date

import pytest
from statuses import at, member, page, status

from tracker.services.ingest import ingest_page
from tracker.services.read.common import NotFound
from tracker.services.read.events import treaty_history
from tracker.services.read.status import treaty_status
from tracker.services.read.treaties import list_treaties, sort_key

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
COK = member("Cook Islands", "COK", consent="2018-09-04", letter="a")
EU = member("European Union", None, sig="2018-01-10", reio=True)


@pytest.fixture
def tpnw(session_factory):
    ingest_page(session_factory, page(status(AUT, DZA, as_at=at("2018-06-01")), "2018-06-02"))
    later = status(AUT, DZA, COK, EU, as_at=at("2018-10-01"), eif_date="2021-01-22")
    ingest_page(session_factory, page(later, "2018-10-02"))
    return session_factory


def by_name(answer):
    return {p["name"]: p for p in answer["participants"]}


def test_status_answers_from_the_latest_snapshot(tpnw):
    with tpnw() as session:
        answer = treaty_status(session, "XXVI-9")
    assert (answer["treaty"], answer["signatories"], answer["parties"]) == ("XXVI-9", 3, 2)
    assert answer["published"] == {
        "signatories": 3,
        "parties": 2,
        "entry_into_force": "2021-01-22",
        "entry_into_force_text": "2021-01-22, in accordance with article 15(1).",
    }
    assert answer["in_force"] is True and answer["as_of"] is None
    assert answer["observed_at"] == at("2018-10-02").isoformat()
    assert answer["source_url"].startswith("https://treaties.example/")
    people = by_name(answer)
    assert people["Austria"]["signature"] == "2017-09-20"
    assert people["Austria"]["consent"] == {"kind": "ratification", "date": "2018-05-08"}
    assert people["Cook Islands"]["consent"] == {"kind": "accession", "date": "2018-09-04"}
    assert people["European Union"]["iso3"] is None and people["European Union"]["reio"] is True
    assert people["Algeria"]["consent"] is None and people["Algeria"]["withdrawn"] is False
    # Austria was seen in the first snapshot, the Cook Islands only in the second.
    assert people["Austria"]["first_observed_at"]["consent"] == at("2018-06-02").isoformat()
    assert people["Cook Islands"]["first_observed_at"]["consent"] == at("2018-10-02").isoformat()
    assert people["Cook Islands"]["first_observed_at"]["signature"] is None


def test_as_of_counts_only_actions_with_legal_dates_up_to_that_day(tpnw):
    with tpnw() as session:
        answer = treaty_status(session, "XXVI-9", as_of=date(2018, 5, 8))
    assert answer["as_of"] == "2018-05-08"
    assert (answer["signatories"], answer["parties"]) == (3, 1)
    assert set(by_name(answer)) == {
        "Austria",
        "Algeria",
        "European Union",
    }  # Cook Islands: none yet
    assert answer["in_force"] is False  # entry into force printed as 2021-01-22
    with tpnw() as session:
        early = treaty_status(session, "XXVI-9", as_of=date(2017, 9, 19))
    assert (early["signatories"], early["parties"], early["participants"]) == (0, 0, [])


def test_withdrawal_seen_happening_still_counts_before_it_was_seen(tpnw):
    withdrawn = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", withdrawn=True)
    ingest_page(tpnw, page(status(withdrawn, DZA, COK, EU), "2019-03-01"))
    with tpnw() as session:
        now = treaty_status(session, "XXVI-9")
        before_seen = treaty_status(session, "XXVI-9", as_of=date(2018, 10, 1))
        after_seen = treaty_status(session, "XXVI-9", as_of=date(2019, 1, 1))
    assert now["parties"] == 1 and by_name(now)["Austria"]["withdrawn"] is True
    # The last snapshot showing Austria without brackets was observed on 2018-10-02.
    assert before_seen["parties"] == 2 and by_name(before_seen)["Austria"]["withdrawn"] is False
    assert after_seen["parties"] == 1 and by_name(after_seen)["Austria"]["withdrawn"] is True
    # Between the last page without brackets (printed 2018-10-01) and the first with them
    # (2019-03-01) the withdrawal's date is not known: not counted, and said so.
    assert by_name(after_seen)["Austria"]["standing"] == "unknown"
    assert (
        "Austria: ratification of 2018-05-08 ended between 2018-10-01 and 2019-03-01; its "
        "standing on 2019-01-01 is not known"
    ) in after_seen["warnings"]
    assert by_name(before_seen)["Austria"]["standing"] == "party"
    gone = treaty_status_at(tpnw, date(2019, 3, 1))
    assert by_name(gone)["Austria"]["standing"] == "withdrawn"
    assert not any("Austria" in w and "standing" in w for w in gone["warnings"])


def test_withdrawal_never_seen_unbracketed_is_withdrawn_at_any_date(session_factory):
    gone = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", withdrawn=True)
    ingest_page(session_factory, page(status(gone, DZA), "2019-01-01"))
    with session_factory() as session:
        answer = treaty_status(session, "XXVI-9", as_of=date(2018, 6, 1))
    assert answer["parties"] == 0 and by_name(answer)["Austria"]["withdrawn"] is True
    # No page showed it in force: between its date and the first page its standing is not
    # known (never "withdrawn since forever"), and the answer says so.
    assert by_name(answer)["Austria"]["standing"] == "unknown"
    assert any("ended between 2018-05-08 and 2019-01-01" in w for w in answer["warnings"])


def treaty_status_at(session_factory, day):
    with session_factory() as session:
        return treaty_status(session, "XXVI-9", as_of=day)


def test_unknown_treaty_raises_not_found(tpnw):
    with tpnw() as session, pytest.raises(NotFound, match="unknown treaty 'XXVI-99'"):
        treaty_status(session, "XXVI-99")
    with tpnw() as session, pytest.raises(NotFound):
        treaty_history(session, "nope")


def test_treaty_ids_match_case_insensitively(tpnw):
    with tpnw() as session:
        assert treaty_status(session, "xxvi-9")["treaty"] == "XXVI-9"


def test_list_treaties_in_mtdsg_order(tpnw):
    for treaty in ("XXVI-10", "IV-4"):
        ingest_page(
            tpnw,
            page(
                status(AUT, treaty=treaty, title=treaty),
                "2019-01-01",
                url=f"https://treaties.example/{treaty}",
            ),
        )
    with tpnw() as session:
        rows = list_treaties(session)
    assert [r["treaty"] for r in rows] == ["IV-4", "XXVI-9", "XXVI-10"]
    tpnw_row = rows[1]
    assert (tpnw_row["signatories"], tpnw_row["parties"], tpnw_row["in_force"]) == (3, 2, True)
    assert tpnw_row["observed_at"] == at("2018-10-02").isoformat()
    assert tpnw_row["source"] == "untc"


def test_history_lists_snapshots_and_events_in_order(tpnw):
    with tpnw() as session:
        history = treaty_history(session, "XXVI-9")
    assert [s["observed_at"] for s in history["snapshots"]] == [
        at("2018-06-02").isoformat(),
        at("2018-10-02").isoformat(),
    ]
    assert [(s["signatories"], s["parties"]) for s in history["snapshots"]] == [(2, 1), (3, 2)]
    assert all(len(s["hash"]) == 64 and s["fetched_at"] for s in history["snapshots"])
    assert sorted((e["kind"], e["participant"], e["legal_date"]) for e in history["events"]) == [
        ("consent", "Cook Islands", "2018-09-04"),
        ("signature", "European Union", "2018-01-10"),
    ]
    event = history["events"][0]
    assert event["observed_at"] == at("2018-10-02").isoformat() and event["state"] == "final"
    assert "action_kind" in event["details"]


def test_sort_key_orders_chapters_numerically():
    ids = ["XXVII-7-a", "IV-4", "XXVI-10", "IV-11", "XXVI-9", "other"]
    assert sorted(ids, key=sort_key) == ["IV-4", "IV-11", "XXVI-9", "XXVI-10", "XXVII-7-a", "other"]
