"""The HTML dashboard over built statuses and over UNTC pages of the project's own.

`seed_built` and `seed_real` are also used by tests/web/test_browser.py; `seed_real` and
`check_tpnw_and_ctbt` by tests/conformance/test_dashboard_real.py.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pycountry
import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from statuses import at, member, page, status
from support import own_pages
from support.real import REAL

from db.models import Source
from tracker.services.answer_cache import ANSWERS
from tracker.services.crawl_records import record_crawl
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.status import treaty_status
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.db

TODAY = date(2026, 11, 22)
START = date(2018, 1, 1)
PARTIES = 52  # TPNW's catalogue rule: 50 instruments, entry into force 90 days later
MET = START + timedelta(days=20 * 49)  # the 50th instrument
EIF = MET + timedelta(days=90)
SIGNED_ONLY = 3
WITHDRAWN_CONSENT = date(2021, 3, 1)  # after MET: counted as an instrument, then bracketed
REAL_HTML = REAL / "untc_viewdetails_html_2026-02-03"
REAL_XML = REAL / "untc_mtdsg_xml_2018-01-15" / "XXVI-9.en.xml"


def _states() -> list[tuple[str, str]]:
    codes = sorted(c.alpha_3 for c in pycountry.countries)[: PARTIES + SIGNED_ONLY + 1]
    return [(pycountry.countries.get(alpha_3=c).name, c) for c in codes]


def built_status(until: date, printed_eif: date | None):
    """Parties every 20 days from 2018, one withdrawn, three signatories only."""
    states = _states()
    members = []
    for i, (name, code) in enumerate(states[:PARTIES]):
        consent = START + timedelta(days=20 * i)
        if consent <= until:
            members.append(member(name, code, sig="2017-09-20", consent=consent.isoformat()))
        else:
            members.append(member(name, code, sig="2017-09-20"))
    name, code = states[PARTIES]
    later = until >= WITHDRAWN_CONSENT
    consent = WITHDRAWN_CONSENT.isoformat() if later else None
    members.append(member(name, code, sig="2017-09-20", consent=consent, withdrawn=later))
    members += [member(n, c, sig="2017-09-21") for n, c in states[PARTIES + 1 :]]
    eif = printed_eif.isoformat() if printed_eif else None
    return status(*sorted(members, key=lambda m: m.name), eif_date=eif)


def seed_built(session_factory: sessionmaker[Session], printed_eif: date | None = EIF) -> None:
    """Two snapshots of XXVI-9: early 2019, then mid 2021 (change and rule events)."""
    for fetched in ("2019-01-02", "2021-06-01"):
        day = date.fromisoformat(fetched)
        shown = printed_eif if printed_eif and printed_eif <= day else None
        ingest_page(session_factory, page(built_status(day, shown), fetched))
    # ... by a good crawl (a source never crawled successfully is not healthy).
    record_crawl(session_factory, "untc", {"pages": 1}, True, None, at("2021-06-01"))


def seed_pages(session_factory: sessionmaker[Session], pages: list[tuple[str, bytes, str]]) -> None:
    """Ingest (URL, page, day observed) in order, each observed at noon UTC of its day."""
    for url, body, day in pages:
        when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
        fetched = FetchedPage("untc", url, body, when, when)
        assert ingest_page(session_factory, fetched) is not None


def seed_real(session_factory: sessionmaker[Session]) -> None:
    """TPNW as of Jan 2018 (XML) and Feb 2026, and the CTBT (named States) of Feb 2026."""
    paths = [(REAL_XML, "2018-01-15"), (REAL_HTML / "XXVI-9__tpnw.html", "2026-02-03")]
    paths.append((REAL_HTML / "XXVI-4__ctbt.html", "2026-02-03"))
    seed_pages(session_factory, [(p.as_uri(), p.read_bytes(), day) for p, day in paths])


def seed_own(session_factory: sessionmaker[Session]) -> None:
    """The same on the project's own pages (support.own_pages, built to the real figures)."""
    seed_pages(
        session_factory,
        [
            (own_pages.url_of("XXVI-9"), own_pages.tpnw_page(date(2018, 1, 15)), "2018-01-15"),
            (own_pages.url_of("XXVI-9"), own_pages.page_of("XXVI-9"), "2026-02-03"),
            (own_pages.url_of("XXVI-4"), own_pages.page_of("XXVI-4"), "2026-02-03"),
        ],
    )


def make_client(session_factory: sessionmaker[Session], settings: Settings) -> TestClient:
    # The overview caches evaluations by snapshot id: ids repeat across test databases.
    ANSWERS.clear()
    app = create_app(session_factory, settings, clock=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC))
    return TestClient(app)


@pytest.fixture
def built(session_factory, settings, fake_parser):
    seed_built(session_factory)
    with make_client(session_factory, settings) as client:
        yield client


def _doc(text: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text)


def _visible_rows(text: str) -> list[lxml_html.HtmlElement]:
    return [r for r in _doc(text).cssselect("#participants tbody tr") if r.get("hidden") is None]


def _status(session_factory, as_of: date | None = None) -> dict:
    with session_factory() as session:
        return treaty_status(session, "XXVI-9", as_of=as_of, today=TODAY)


def test_overview_lists_counts_progress_stage_and_health(built, session_factory):
    answer = built.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    expected = _status(session_factory)
    doc = _doc(answer.text)
    row = doc.cssselect("table.treaties tbody tr")[0]
    cells = [c.text_content().strip() for c in row.cssselect("th, td")]
    assert cells[0] == "XXVI-9" and "Nuclear Weapons" in cells[1]
    # stage, entry into force (computed; the printed date is the same), remaining
    assert cells[2:5] == ["in force", f"{EIF.isoformat()} as printed", "0"]
    have = expected["qualifying_instruments"]
    assert cells[5] == f"{have} / 50"
    bar = row.cssselect("[role=progressbar]")[0]
    assert bar.get("aria-valuenow") == "50" and bar.get("aria-valuemax") == "50"
    assert cells[6:9] == ["50", str(expected["signatories"]), str(expected["parties"])]
    assert "healthy" in cells[10]
    assert "Unhealthy sources" not in answer.text
    assert 'href="/?sort=remaining"' in answer.text and 'href="/?sort=treaty"' in answer.text


def test_overview_search_and_sort(built):
    assert "/treaties/XXVI-9" in built.get("/?q=nuclear").text
    assert "/treaties/XXVI-9" in built.get("/?q=xxvi-9&sort=remaining").text
    missing = built.get("/?q=zzz-no-such")
    assert missing.status_code == 200
    assert "/treaties/XXVI-9" not in missing.text and "No tracked treaty matches" in missing.text


def test_unhealthy_sources_are_listed_first(built, session_factory):
    with session_factory.begin() as session:
        source = session.scalar(select(Source).where(Source.slug == "untc"))
        source.healthy = False
        source.consecutive_failures = 3
        source.last_error = "HTTP 503 from the depositary"
    text = built.get("/").text
    assert "Unhealthy sources" in text and "HTTP 503 from the depositary" in text
    assert text.index("Unhealthy sources") < text.index('<table class="treaties">')
    assert '<span class="badge unhealthy">unhealthy</span>' in text


def test_a_source_not_crawled_yet_says_so_instead_of_counting_failures(built, session_factory):
    with session_factory.begin() as session:
        source = session.scalar(select(Source).where(Source.slug == "untc"))
        source.healthy, source.health_state = False, "pending"
        source.consecutive_failures, source.last_success_at = 0, None
    text = built.get("/").text
    assert "Unhealthy sources" in text and "untc</strong>: not crawled yet" in text
    assert "0 failed crawl(s) in a row" not in text


def test_treaty_page_counts_rule_dates_and_events(built, session_factory):
    answer = built.get("/treaties/XXVI-9")
    assert answer.status_code == 200
    expected = _status(session_factory)
    text = answer.text
    cards = {
        d.cssselect("dt")[0].text_content(): d.cssselect("dd")[0].text_content().strip()
        for d in _doc(text).cssselect("dl.cards > div")
    }
    assert cards == {
        "Signatories": str(expected["signatories"]),
        "Parties": str(expected["parties"]),
        "Qualifying instruments": str(expected["qualifying_instruments"]),
        "Threshold": "50",
        "Remaining": "0",
        "Stage": "in force",
    }
    assert html.escape(expected["rule"]["words"], quote=False) in text
    assert expected["rule"]["citation"] in text and ">catalogue<" in text
    facts = _doc(text).cssselect("dl.facts")[0].text_content()
    assert MET.isoformat() in facts and EIF.isoformat() in facts and "agrees" in facts
    assert "Dates disagree" not in text
    deciding = expected["deciding_deposits"][0]
    assert f"ratification on {MET.isoformat()}" in text and deciding["participant"] in text
    rows = _doc(text).cssselect("table.events tbody tr")
    events = [r.cssselect("td")[1].text_content() for r in rows]
    assert events[:2] == ["entered into force", "threshold crossed"]  # newest first
    # Consents after the first snapshot (2019-01-02): 33 parties and the one later withdrawn.
    assert events.count("consent") == PARTIES - 19 + 1


def test_treaty_chart_is_inline_svg_with_threshold_and_eif(built):
    doc = _doc(built.get("/treaties/XXVI-9").text)
    (svg,) = doc.cssselect("svg.chart-svg")
    assert svg.get("role") == "img"
    assert "threshold of 50" in svg.cssselect("title")[0].text_content()
    (threshold,) = svg.cssselect("line.threshold")
    assert threshold.get("y1") == threshold.get("y2")
    (eif,) = svg.cssselect("line.eif")
    assert eif.get("x1") == eif.get("x2")
    assert f"entry into force {EIF.isoformat()}" in svg.text_content()
    path = svg.cssselect("path.series")[0].get("d")
    assert path.startswith("M") and path.count("V") == PARTIES + 1  # withdrawn one counts too
    years = [t.text_content() for t in svg.cssselect("g.x-axis text")]
    assert "2018" in years and "2026" in years


def test_participant_filters_work_without_javascript(built):
    text = built.get("/treaties/XXVI-9").text
    for key in ("signed_not_ratified", "parties", "withdrawn"):
        assert f'href="/treaties/XXVI-9?filter={key}"' in text
    assert len(_visible_rows(text)) == PARTIES + SIGNED_ONLY + 1
    signed = built.get("/treaties/XXVI-9?filter=signed_not_ratified").text
    assert len(_visible_rows(signed)) == SIGNED_ONLY
    assert len(_visible_rows(built.get("/treaties/XXVI-9?filter=parties").text)) == PARTIES
    (withdrawn,) = _visible_rows(built.get("/treaties/XXVI-9?filter=withdrawn").text)
    assert "withdrawn" in withdrawn.text_content()


def test_participants_sorted_by_a_column(built):
    rows = _visible_rows(built.get("/treaties/XXVI-9?sort=consent").text)
    consents = [r.cssselect("td")[2].get("data-value") for r in rows]
    dated = [c for c in consents if c]
    assert dated == sorted(dated) and consents[: len(dated)] == dated  # blanks last
    assert (
        'aria-sort="ascending"><a href="/treaties/XXVI-9?sort=consent"'
        in built.get("/treaties/XXVI-9?sort=consent").text
    )


def test_treaty_as_of_a_past_date(built, session_factory):
    on = date(2019, 6, 1)
    answer = built.get(f"/treaties/XXVI-9?as_of={on.isoformat()}")
    assert answer.status_code == 200
    expected = _status(session_factory, on)
    doc = _doc(answer.text)
    cards = [d.text_content().strip() for d in doc.cssselect("dl.cards dd")]
    assert cards[1] == str(expected["parties"]) and cards[5] == "not in force"
    assert expected["remaining"] > 0 and cards[4] == str(expected["remaining"])
    assert not doc.cssselect("line.eif")
    assert doc.cssselect("line.threshold") and "Answering as of" in answer.text


def test_printed_date_that_disagrees_is_a_visible_warning(session_factory, settings, fake_parser):
    seed_built(session_factory, printed_eif=EIF + timedelta(days=3))
    with make_client(session_factory, settings) as client:
        text = client.get("/treaties/XXVI-9").text
    (warning,) = _doc(text).cssselect(".notice.warning")
    assert warning.get("role") == "alert" and "Dates disagree" in warning.text_content()
    assert EIF.isoformat() in warning.text_content()


def test_country_page(built):
    name, code = _states()[0]
    answer = built.get(f"/countries/{code.lower()}")
    assert answer.status_code == 200
    doc = _doc(answer.text)
    assert name in doc.cssselect("h1")[0].text_content()
    assert doc.cssselect('a[href="/treaties/XXVI-9"]')
    kinds = [r.cssselect("td")[-3].text_content() for r in doc.cssselect("table.country tbody tr")]
    assert kinds == ["signature", "ratification"]
    assert f'href="/countries/{code}"' in built.get("/treaties/XXVI-9").text


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("/treaties/XXVI-99", 404, "unknown treaty"),
        # A country is found by code or by name (tests/web/test_countries_web.py).
        ("/countries/ZZZ", 404, "no country is named 'ZZZ'"),
        ("/countries/A1", 404, "an ISO 3166 alpha-3 code such as FRA"),
        ("/treaties/XXVI-9?as_of=2020-02-30", 422, "as_of must be a calendar date"),
        ("/treaties/XXVI-9?as_of=yesterday", 422, "as_of must be a calendar date"),
        ("/treaties/XXVI-9?filter=everyone", 422, "filter must be one of"),
        ("/treaties/XXVI-9?sort=colour", 422, "sort must be one of"),
        ("/?sort=colour", 422, "sort must be one of"),
    ],
)
def test_bad_input_is_an_html_page_with_a_clear_message(built, url, code, words):
    answer = built.get(url)
    assert answer.status_code == code
    assert answer.headers["content-type"].startswith("text/html")
    assert words in _doc(answer.text).cssselect("[role=alert]")[0].text_content()


def test_static_files_and_valid_page_structure(built):
    for asset, kind in (("dashboard.css", "text/css"), ("dashboard.js", "javascript")):
        answer = built.get(f"/static/{asset}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
    for url in ("/", "/treaties/XXVI-9", f"/countries/{_states()[0][1]}", "/treaties/NOPE"):
        text = built.get(url).text
        assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
        doc = _doc(text)
        ids = [e.get("id") for e in doc.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), url
        assert len(doc.cssselect("h1")) == 1 and doc.cssselect("main#main")


def test_dashboard_is_not_in_the_openapi_document(built):
    paths = built.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/treaties/{treaty_id}" not in paths


def test_tpnw_and_ctbt_pages(session_factory, settings):
    """TPNW and the CTBT on the project's own pages (tests/conformance/test_dashboard_real.py:
    the same over the real captures)."""
    check_tpnw_and_ctbt(session_factory, settings, seed_own)


def check_tpnw_and_ctbt(session_factory, settings, seed) -> None:
    seed(session_factory)
    with make_client(session_factory, settings) as client:
        tpnw = client.get("/treaties/XXVI-9").text
        ctbt = client.get("/treaties/XXVI-4").text
        overview = client.get("/").text
    cards = [d.text_content().strip() for d in _doc(tpnw).cssselect("dl.cards dd")]
    assert cards[:2] == ["95", "74"] and cards[5] == "in force"
    assert "entry into force 2021-01-22" in tpnw and "Honduras" in tpnw
    assert "35 / 44" in ctbt and "North Korea" in ctbt and "United States of America" in ctbt
    assert "instruments from the 44 States listed in Annex 2" in ctbt
    assert "35 / 44" in overview  # named States, not 177 instruments against 44


def test_treaty_without_a_known_rule(session_factory, settings, fake_parser):
    other = status(member("Austria", "AUT", sig="2001-01-02"), treaty="XVIII-99", title="Odd")
    ingest_page(session_factory, page(other, "2019-01-02", url="https://treaties.example/odd"))
    with make_client(session_factory, settings) as client:
        treaty = client.get("/treaties/XVIII-99")
        early = client.get("/treaties/XVIII-99?as_of=1990-01-01")
        listed = client.get("/").text
    assert treaty.status_code == 200 and "No entry-into-force rule is known" in treaty.text
    assert "<svg" not in treaty.text and "no entry-into-force rule known" in treaty.text
    assert early.status_code == 200
    assert "0 of 0 participants shown" in _doc(early.text).cssselect("p.count")[0].text_content()
    assert "no rule known" in listed
