"""Who has not joined a treaty (tracker.services.read.missing): the pure split over built
statuses, and the answer over UNTC pages of the project's own ingested through the real parser
(support.own_pages' TPNW, and a page with withdrawals dated by their footnotes)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from statuses import member, status
from support import own_pages
from support.untc_render import Page, Row, render

from tracker.domain.endings import FOOTNOTE, Ending
from tracker.reference import un_members
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.common import NotFound
from tracker.services.read.missing import not_joined, treaty_missing
from tracker.sources.countries import iso3

REF = un_members()
D = date.fromisoformat


def _codes(entries):
    return [e["iso3"] for e in entries]


def test_parties_are_not_missing_and_the_rest_split_by_signature():
    found = not_joined(
        status(
            member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08"),
            member("Algeria", "DZA", sig="2017-09-20"),
            member("Cuba", "CUB", consent="2018-01-30", letter="a"),
        ),
        REF,
    )
    c = found["counts"]
    assert (c["parties"], c["signed_not_ratified"], c["withdrawn"]) == (2, 1, 0)
    assert found["signed_not_ratified"] == [
        {
            "iso3": "DZA",
            "name": "Algeria",
            "signed": "2017-09-20",
            "member": True,
            "printed_name": "Algeria",
            "provisional_application": None,
        }
    ]
    assert c["not_signed"] == 190 and c["reference"] == 193  # no observer on the page
    unsigned = found["not_signed"]
    assert {"AUT", "CUB", "DZA"}.isdisjoint(_codes(unsigned))
    assert all(e["signed"] is None and e["printed_name"] is None for e in unsigned)
    assert _codes(unsigned) == sorted(_codes(unsigned), key=lambda c: REF.member(c).name)
    assert next(e for e in unsigned if e["iso3"] == "FRA")["name"] == "France"


def test_names_are_the_reference_names_not_the_printed_ones():
    found = not_joined(status(member("Czech Republic", "CZE", sig="2017-09-20")), REF)
    entry = found["signed_not_ratified"][0]
    assert (entry["name"], entry["printed_name"]) == ("Czechia", "Czech Republic")


def test_observer_states_count_only_where_the_page_lists_them():
    found = not_joined(
        status(member("Holy See", "VAT", sig="2017-09-20", consent="2017-09-20")), REF
    )
    observers = {o["iso3"]: o for o in found["observers"]}
    assert observers["VAT"]["counted"] and not observers["PSE"]["counted"]
    assert "not known" in observers["PSE"]["why"]
    assert found["counts"]["reference"] == 194 and found["counts"]["parties"] == 1
    assert "PSE" not in _codes(found["not_signed"])
    signed_only = not_joined(status(member("State of Palestine", "PSE", sig="2018-03-22")), REF)
    assert _codes(signed_only["signed_not_ratified"]) == ["PSE"]
    assert signed_only["signed_not_ratified"][0]["member"] is False


def test_non_members_are_never_missing_and_unmatched_names_are_warned():
    found = not_joined(
        status(
            member("European Union", None, sig="2017-09-20", consent="2018-01-01", reio=True),
            member("Cook Islands", "COK", consent="2018-09-04", letter="a"),
            member("Niue", "NIU", sig="2020-08-06"),
            member("Czechoslovakia", "CSK", consent="1975-12-23"),
            member("Republic of Nowhere", None, sig="2017-09-20"),
        ),
        REF,
    )
    outside = {p["name"]: p for p in found["not_in_reference"]}
    assert set(outside) == {"European Union", "Cook Islands", "Niue", "Czechoslovakia"}
    assert outside["European Union"]["reio"] is True
    assert found["counts"]["reference"] == 193 and found["counts"]["not_signed"] == 193
    assert len(found["warnings"]) == 1 and "'Republic of Nowhere'" in found["warnings"][0]


def test_a_withdrawn_state_is_listed_as_withdrawn_with_its_dates():
    est = member("Estonia", "EST", consent="2004-05-12", letter="a", withdrawn=True)
    ending = Ending("EST", "withdrawal", D("2025-06-27"), D("2025-12-27"), FOOTNOTE)
    found = not_joined(status(est), REF, {"EST": (ending,)})
    assert found["counts"]["withdrawn"] == 1
    assert "EST" not in _codes(found["not_signed"] + found["signed_not_ratified"])
    (entry,) = found["withdrawn"]
    assert entry["iso3"] == "EST" and entry["signed"] is None
    assert entry["consents"] == [{"kind": "accession", "date": "2004-05-12", "withdrawn": True}]
    assert entry["withdrawals"][0]["notified_on"] == "2025-06-27"
    assert entry["withdrawals"][0]["effective_on"] == "2025-12-27"
    c = found["counts"]
    assert c["parties"] + c["signed_not_ratified"] + c["not_signed"] + c["withdrawn"] == 193


def test_a_state_that_withdrew_and_rejoined_is_a_party():
    rows = member("Estonia", "EST", consent="2004-05-12", letter="a", withdrawn=True)
    again = member("Estonia", "EST", consent="2026-03-01", letter="a")
    found = not_joined(status(rows, again), REF)
    assert found["counts"]["parties"] == 1 and found["counts"]["withdrawn"] == 0


# ---- over ingested pages ---------------------------------------------------------------------

NOON = datetime(2026, 2, 3, 12, tzinfo=UTC)


def _ingest(session_factory, treaty: str, body: bytes) -> None:
    page = FetchedPage("untc", own_pages.url_of(treaty), body, NOON, NOON, expected_treaty=treaty)
    assert ingest_page(session_factory, page).outcome == "accepted"


@pytest.mark.db
def test_tpnw_of_the_projects_own_page(session_factory):
    """The own TPNW page (99 rows of pycountry names, 74 parties, 25 signatories only): every
    Member is a party, signed only or not signed, and the rows that are no Member (territories
    among pycountry's names) are never missing."""
    _ingest(session_factory, "XXVI-9", own_pages.tpnw_page())
    with session_factory() as session:
        found = treaty_missing(session, "XXVI-9")
    members = {s.iso3 for s in REF.members}
    rows = own_pages.tpnw_rows()
    codes = {r.name: iso3(r.name) for r in rows}
    parties = {codes[r.name] for r in rows if r.consent} & members
    signed_only = {codes[r.name] for r in rows if r.signature and not r.consent} & members
    c = found["counts"]
    assert (c["parties"], c["signed_not_ratified"], c["withdrawn"]) == (
        len(parties),
        len(signed_only),
        0,
    )
    assert set(_codes(found["signed_not_ratified"])) == signed_only
    assert {e["signed"] for e in found["signed_not_ratified"]} == {"2017-09-22"}
    assert c["not_signed"] == 193 - len(parties) - len(signed_only)
    assert "AUT" not in _codes(found["not_signed"] + found["signed_not_ratified"])
    outside = {p["iso3"] for p in found["not_in_reference"]}
    assert outside and not outside & members
    assert outside == {codes[r.name] for r in rows} - members
    assert (found["treaty"], found["source"]) == ("XXVI-9", "untc")
    assert found["observed_at"].startswith("2026-02-03")
    assert found["reference"]["id"] == "un_members" and found["reference"]["members"] == 193


WITHDRAWAL = (
    "On 27 June 2025, the Government of the Republic of Estonia deposited with the "
    "Secretary-General a notification of withdrawal (See depositary notification "
    "C.N.360.2025.TREATIES-XXVI-5 of 3 July 2025). The withdrawal took effect for Estonia on "
    "27 December 2025 in accordance with article 20 (3) of the Convention."
)


@pytest.mark.db
def test_withdrawals_dated_by_their_footnote_on_an_ingested_page(session_factory):
    rows = [
        Row("Austria", D("1997-12-03"), D("1998-06-29")),
        Row("Estonia", None, D("2004-05-12"), letter="a", withdrawn=True, footnotes=("1",)),
        Row("Latvia", None, D("2005-07-01"), letter="a", withdrawn=True),
        Row("Marshall Islands", D("1997-12-04")),
    ]
    body = render(
        Page(
            treaty_id="XXVI-5",
            title="Convention on the Prohibition of the Use, Stockpiling, Production and "
            "Transfer of Anti-Personnel Mines and on their Destruction",
            rows=rows,
            in_force="1 March 1999, in accordance with article 17(1).",
            footnotes={"1": WITHDRAWAL},
        )
    )
    _ingest(session_factory, "XXVI-5", body)
    with session_factory() as session:
        found = treaty_missing(session, "XXVI-5")
    by = {e["iso3"]: e for e in found["withdrawn"]}
    assert set(by) == {"EST", "LVA"}
    assert by["EST"]["withdrawals"][0]["effective_on"] == "2025-12-27"
    assert by["EST"]["withdrawals"][0]["basis"] == "footnote"
    assert by["LVA"]["withdrawals"][0]["effective_on"] is None  # brackets, no footnote
    assert _codes(found["signed_not_ratified"]) == ["MHL"]
    c = found["counts"]
    assert (c["parties"], c["withdrawn"], c["not_signed"]) == (1, 2, 193 - 4)


@pytest.mark.db
def test_an_unknown_treaty_is_not_found(session_factory):
    with session_factory() as session, pytest.raises(NotFound):
        treaty_missing(session, "XXVI-99")
