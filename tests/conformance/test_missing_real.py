"""Who has not joined, over the real UNTC pages of Feb 2026 (../shared; skipped without it):
TPNW's split adds up to the 193 Members and the two observer States it lists, the CRC is
missing only the United States (signed, 1995), Ottawa's four withdrawals are listed with the
dates their footnotes give, and the names the UN Treaty Collection prints are the reference
list's (or the spelling it records for UNTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.real import ABSENT, REAL, TPNW_HTML

from tracker.catalogue import rule_for
from tracker.domain.withdrawals import read_withdrawals
from tracker.reference import un_members
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.missing import not_joined, treaty_missing
from tracker.sources.untc.footnotes import FOOTNOTES

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TPNW_HTML.exists(), reason=ABSENT)]

REF = un_members()
HTML = REAL / "untc_viewdetails_html_2026-02-03"
URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no={}&chapter=26&clang=_en"


def _status(html_outcomes, treaty: str):
    (found,) = [o.status for o in html_outcomes if o.status and o.status.treaty_id == treaty]
    return found


def _answer(html_outcomes, treaty: str):
    status = _status(html_outcomes, treaty)
    rule = rule_for("untc", treaty, status)
    ends = read_withdrawals(status, FOOTNOTES, rule.withdrawal if rule else None).endings
    return not_joined(status, REF, ends)


@pytest.mark.db
def test_tpnw_adds_up_to_the_members_and_the_observers_it_lists(session_factory):
    when = datetime(2026, 2, 3, 15, tzinfo=UTC)
    page = FetchedPage("untc", URL.format("XXVI-9"), TPNW_HTML.read_bytes(), when, when)
    assert ingest_page(session_factory, page).outcome == "accepted"
    with session_factory() as session:
        found = treaty_missing(session, "XXVI-9")
    c = found["counts"]
    # 74 parties printed: 70 Members, the Holy See and the State of Palestine, Cook Islands, Niue.
    assert c["parties"] + c["signed_not_ratified"] + c["not_signed"] == 193 + 2 == c["reference"]
    assert (c["parties"], c["signed_not_ratified"], c["not_signed"], c["withdrawn"]) == (
        72,
        25,
        98,
        0,
    )
    assert all(o["counted"] for o in found["observers"])
    assert {p["iso3"] for p in found["not_in_reference"]} == {"COK", "NIU"}
    assert found["warnings"] == []
    not_signed = {e["iso3"] for e in found["not_signed"]}
    assert {"USA", "RUS", "CHN", "FRA", "GBR", "IND", "PAK", "ISR", "PRK"} <= not_signed
    assert found["observed_at"].startswith("2026-02-03")


def test_crc_is_missing_only_the_united_states(html_outcomes):
    found = _answer(html_outcomes, "IV-11")
    assert [(e["iso3"], e["signed"]) for e in found["signed_not_ratified"]] == [
        ("USA", "1995-02-16")
    ]
    assert found["not_signed"] == [] and found["withdrawn"] == []


def test_ottawa_withdrawals_are_listed_with_their_dates(html_outcomes):
    found = _answer(html_outcomes, "XXVI-5")
    effective = {
        e["iso3"]: [w["effective_on"] for w in e["withdrawals"]] for e in found["withdrawn"]
    }
    assert set(effective) == {"EST", "FIN", "LVA", "LTU"}
    assert effective["EST"] == ["2025-12-27"] and effective["FIN"] == ["2026-01-10"]
    c = found["counts"]
    assert (
        c["parties"] + c["signed_not_ratified"] + c["not_signed"] + c["withdrawn"] == c["reference"]
    )


def test_printed_names_are_the_reference_names(html_outcomes):
    """Over the 30 pages every Member and observer State is printed under the reference name or
    the UNTC spelling the list records; all 195 appear somewhere."""
    states = {s.iso3: s for s in (*REF.members, *REF.observers)}
    seen, other = set(), []
    for o in html_outcomes:
        for p in o.status.participants if o.status else ():
            state = states.get(p.iso3 or "")
            if state is None:
                continue
            seen.add(state.iso3)
            if p.name not in (state.name, state.untc):
                other.append((state.iso3, p.name))
    assert other == []
    assert seen == set(states)
