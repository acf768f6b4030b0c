"""The as-of history over real captures: the CTBT (XXVI-4) as the 2018 MTDSG XML and the Feb 2026
ViewDetails page print it (the Russian Federation's ratification of 30 June 2000, de-ratified in
2023, is gone from the 2026 page), and the Paris Agreement (XXVII-7-d) as openclimatedata's CSV
history shows it (the United States' acceptance of 3 Sep 2016, then an acceptance of
20 Jan 2021). Skips with the reason when shared/fixtures/real is absent."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from support.climate_history import status_stamp
from support.real import REAL
from support.untc_render import Page, Row, render

from db.models import Event
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.status import treaty_status

XML = REAL / "untc_mtdsg_xml_2018-01-15" / "XXVI-4.en.xml"
HTML = REAL / "untc_viewdetails_html_2026-02-03" / "XXVI-4__ctbt.html"
PARIS = REAL / "derived" / "openclimatedata_paris_XXVII-7-d_history"
XML_URL = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-4.en.xml"
HTML_URL = (
    "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-4&chapter=26&clang=_en"
)
PARIS_URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVII-7-d&chapter=27&clang=_en"
XML_OBSERVED = datetime(
    2018, 1, 16, 1, 6, tzinfo=UTC
)  # the capture's commit, 2018-01-15 20:06 -0500
HTML_OBSERVED = datetime(2026, 2, 3, 15, 16, 18, tzinfo=UTC)  # its "status as at" stamp
TODAY = date(2026, 11, 1)
D = date.fromisoformat

# slow: reads the real depositary pages of ../shared (hundreds of files) to set up
pytestmark = [pytest.mark.db, pytest.mark.slow]
needs_ctbt = pytest.mark.skipif(
    not (XML.is_file() and HTML.is_file()), reason=f"real fixtures absent: {XML.parent.parent}"
)
needs_paris = pytest.mark.skipif(not PARIS.is_dir(), reason=f"real fixtures absent: {PARIS}")


def _ingest(session_factory, url: str, body: bytes, observed: datetime, treaty: str) -> None:
    page = FetchedPage("untc", url, body, observed, None, treaty)
    result = ingest_page(session_factory, page)
    assert result.outcome == "accepted", result


@pytest.fixture
def ctbt(session_factory):
    _ingest(session_factory, XML_URL, XML.read_bytes(), XML_OBSERVED, "XXVI-4")
    _ingest(session_factory, HTML_URL, HTML.read_bytes(), HTML_OBSERVED, "XXVI-4")
    return session_factory


def _ask(session_factory, treaty: str, **kw):
    with session_factory() as session:
        return treaty_status(session, treaty, today=TODAY, **kw)


def _one(answer, iso3: str):
    (found,) = [p for p in answer["participants"] if p["iso3"] == iso3]
    return found


@needs_ctbt
def test_ctbt_as_of_2010_counts_russia_as_ratified(ctbt):
    answer = _ask(ctbt, "XXVI-4", as_of=D("2010-01-01"))
    russia = _one(answer, "RUS")
    assert russia["consent"] == {"kind": "ratification", "date": "2000-06-30"}
    assert russia["standing"] == "party"
    annex = next(g for g in answer["groups"] if "Annex 2" in g["label"])
    assert "RUS" not in annex["missing"]
    assert not any("Russian Federation" in w for w in answer["warnings"])
    # The latest page alone leaves Russia out of the Annex 2 States that ratified.
    now = _ask(ctbt, "XXVI-4")
    assert _one(now, "RUS")["consent"] is None
    assert "RUS" in next(g for g in now["groups"] if "Annex 2" in g["label"])["missing"]


@pytest.mark.parametrize(
    "known_at", [datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 2, 3, 15, tzinfo=UTC)]
)
@needs_ctbt
def test_ctbt_known_before_the_2026_page_says_ratified(ctbt, known_at):
    answer = _ask(ctbt, "XXVI-4", known_at=known_at)
    assert answer["observed_at"] == XML_OBSERVED.isoformat()
    assert _one(answer, "RUS")["consent"] == {"kind": "ratification", "date": "2000-06-30"}
    assert answer["parties"] == 166  # as the 2018 XML prints it
    # As of a day after the de-ratification, what was known then still says ratified.
    later = _ask(ctbt, "XXVI-4", known_at=known_at, as_of=D("2024-01-01"))
    assert _one(later, "RUS")["standing"] == "party"


@needs_ctbt
def test_ctbt_after_both_pages_russia_on_a_later_day_is_not_known_and_said_so(ctbt):
    answer = _ask(ctbt, "XXVI-4", as_of=D("2024-01-01"))
    russia = _one(answer, "RUS")
    assert russia["standing"] == "unknown" and russia["withdrawn"] is True
    assert russia["signature"] == "1996-09-24"
    assert (
        "Russian Federation: ratification of 2000-06-30 ended between 2018-01-16 and 2026-02-03; "
        "its standing on 2024-01-01 is not known"
    ) in answer["warnings"]
    annex = next(g for g in answer["groups"] if "Annex 2" in g["label"])
    # The rule is fed Russia's act bracketed with its ending: never counted silently (until
    # the evaluation reads the endings, it is counted and said so).
    counted = "counted although later withdrawn: Russian Federation" in answer["warnings"]
    assert ("RUS" in annex["missing"]) is not counted
    # Every party the 2026 page prints is a party as of its own day, Russia is not counted.
    on_print_day = _ask(ctbt, "XXVI-4", as_of=D("2026-02-03"))
    assert on_print_day["parties"] == 178 and _one(on_print_day, "RUS")["standing"] == "unknown"
    with ctbt() as session:
        kinds = [
            (e.kind, e.state)
            for e in session.scalars(
                select(Event).where(Event.participant_name == "Russian Federation")
            )
        ]
    assert kinds == [("action_disappeared", "suspicious")]  # one page: not a revocation yet


# ---- Paris Agreement, the United States ------------------------------------------------------

LETTERS = {"Ratification": "", "Acceptance": "A", "Approval": "AA", "Accession": "a"}
FILES = (
    "paris_2016-09-19_c615ee6.csv",
    "paris_2018-01-10_c062a3b.csv",
    "paris_2020-11-18_7ccc78d.csv",
    "paris_2021-01-21_558028e.csv",
    "paris_2021-02-24_b50b0dc.csv",
)


def _paris_page(path: Path) -> tuple[bytes, datetime]:
    day = D(path.name.split("_")[1])
    observed = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        kind_at = header.index("Kind") if "Kind" in header else None
        for rec in reader:
            name = " ".join(re.sub(r"<superscript>[^<]*</superscript>", "", rec[1]).split())
            signed = D(rec[2]) if rec[2].strip() else None
            consent = D(rec[3]) if rec[3].strip() else None
            kind = rec[kind_at].strip() if kind_at is not None else ""
            rows.append(Row(name, signed, consent, letter=LETTERS.get(kind, "")))
    page = Page(
        "XXVII-7-d",
        "Paris Agreement",
        rows,
        consent_header="Ratification, Acceptance(A), Approval(AA), Accession(a)",
        status_as_at=status_stamp(observed),
    )
    return render(page), observed


@pytest.fixture
def paris(session_factory):
    for name in FILES:
        body, observed = _paris_page(PARIS / name)
        _ingest(session_factory, PARIS_URL, body, observed, "XXVII-7-d")
    return session_factory


@needs_paris
def test_paris_usa_party_in_2018_from_the_2016_acceptance_then_the_2021_one(paris):
    usa = _one(_ask(paris, "XXVII-7-d", as_of=D("2018-01-01")), "USA")
    assert usa["standing"] == "party"
    assert usa["consent"] == {"kind": "acceptance", "date": "2016-09-03"}
    gap = _ask(paris, "XXVII-7-d", as_of=D("2020-12-15"))
    assert _one(gap, "USA")["standing"] == "unknown"
    assert any(
        w.startswith("United States of America: acceptance of 2016-09-03 ended between 2020-11-18")
        for w in gap["warnings"]
    )
    back = _one(_ask(paris, "XXVII-7-d", as_of=D("2021-06-01")), "USA")
    assert back["standing"] == "party"
    assert back["consent"] == {"kind": "acceptance", "date": "2021-01-20"}


@needs_paris
def test_paris_2021_acceptance_is_a_reaccession_event_not_a_correction(paris):
    with paris() as session:
        events = [
            (e.kind, e.legal_date, e.details)
            for e in session.scalars(
                select(Event).where(Event.participant_name == "United States of America")
            )
        ]
    assert [(k, d) for k, d, _ in events] == [("reaccession", D("2021-01-20"))]
    assert events[0][2]["ended"]["date"] == "2016-09-03"
