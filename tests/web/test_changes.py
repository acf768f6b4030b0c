"""What changed (issue 13), over both depositaries (support.two_sources: TPNW seen in Jan 2018
then Feb 2026, so 73 events on 2026-02-03; Austria's Marrakesh ratification seen 2026-02-11;
the Washington Treaty WIPO-29's `approaching` a baseline of its first look):

- /changes: events grouped by day and treaty, in words, filtered by kind, source and country,
  paginated, linked from the navigation; bad input is a 422 page;
- the Atom feeds: baseline left out unless asked for, then marked; titles carry the treaty's
  title; every entry id resolves at /api/events/{id} (404 for an unknown id); `updated` of an
  empty feed is the last check of what it covers (never 1970); autodiscovery links on pages.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker
from support.two_sources import austria_ratifies_marrakesh, seed_two_sources

from tracker.services import unit_of_work
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.changes import changes
from tracker.settings import Settings
from tracker.web import changes as changes_web
from tracker.web.app import create_app

pytestmark = pytest.mark.db

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC = "https://tracker.example.org"
CLOCK = datetime(2026, 2, 12, 9, tzinfo=UTC)
SEEDED_NOON = datetime(2026, 2, 3, 12, tzinfo=UTC)
TPNW = "Treaty on the Prohibition of Nuclear Weapons"


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_two_sources(session_factory)
    austria_ratifies_marrakesh(session_factory, "2026-02-11")
    return session_factory


def make_client(sessions: sessionmaker[Session], settings: Settings) -> TestClient:
    ANSWERS.clear()  # answers are cached by snapshot ids, which repeat across test databases
    app = create_app(sessions, settings.replace(public_url=PUBLIC), clock=lambda: CLOCK)
    return TestClient(app)


@pytest.fixture
def client(seeded: sessionmaker[Session], settings: Settings) -> TestClient:
    return make_client(seeded, settings)


def doc(response):
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.text)


def feed(client: TestClient, url: str) -> ET.Element:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text[:300]
    return ET.fromstring(answer.content)


def days(page) -> list[tuple[str, list[str]]]:
    """(day heading, treaty ids) of each day section, in page order."""
    return [
        (
            " ".join(section.find("h2").text_content().split()),
            [a.get("data-treaty") for a in section.findall(".//article")],
        )
        for section in page.find_class("changes-day")
    ]


# --- the read side ------------------------------------------------------------------------


def test_changes_are_grouped_by_day_then_treaty_newest_first(seeded):
    with unit_of_work.read(seeded) as session:
        found = changes(session)
        with_baseline = changes(session, baseline=True)
        paged = [changes(session, per_page=30, page=n) for n in (1, 2, 3)]
    assert [(d.day.isoformat(), [t.treaty for t in d.treaties]) for d in found.days] == [
        ("2026-02-11", ["WIPO-843"]),
        ("2026-02-03", ["XXVI-9"]),
    ]
    assert found.total == found.count == 74
    (austria,) = found.days[0].treaties[0].events
    assert (austria["kind"], austria["iso3"], austria["title"]) == (
        "consent",
        "AUT",
        "Marrakesh VIP Treaty",
    )
    # the baseline (WIPO-29's first look) only when asked for
    assert with_baseline.total == 75
    (wipo29,) = [t for d in with_baseline.days for t in d.treaties if t.treaty == "WIPO-29"]
    assert [(e["kind"], e["baseline"]) for e in wipo29.events] == [("approaching", True)]
    # pages: 30 + 30 + 14, none twice, the first page's newest first
    ids = [e["id"] for p in paged for d in p.days for t in d.treaties for e in t.events]
    assert [p.count for p in paged] == [30, 30, 14] and len(set(ids)) == 74
    assert [p.has_next for p in paged] == [True, True, False]
    assert ids[0] == austria["id"]


def test_changes_filter_by_kind_source_country_and_since(seeded):
    with unit_of_work.read(seeded) as session:
        by_kind = changes(session, kind="threshold_crossed")
        wipo = changes(session, source="wipo")
        austria = changes(session, country="aut")
        later = changes(session, since=datetime(2026, 2, 5, tzinfo=UTC))
    assert [(t.treaty, e["kind"]) for d in by_kind.days for t in d.treaties for e in t.events] == [
        ("XXVI-9", "threshold_crossed")
    ]
    assert [t.treaty for d in wipo.days for t in d.treaties] == ["WIPO-843"]
    assert {(t.treaty, e["iso3"]) for d in austria.days for t in d.treaties for e in t.events} == {
        ("WIPO-843", "AUT"),
        ("XXVI-9", "AUT"),
    }
    assert later.total == 1 and later.days[0].day.isoformat() == "2026-02-11"


# --- the /changes page --------------------------------------------------------------------


def test_the_changes_page_shows_days_treaties_and_words(client):
    page = doc(client.get("/changes"))
    assert days(page) == [
        ("Wednesday 11 February 2026 (1 event)", ["WIPO-843"]),
        ("Tuesday 3 February 2026 (73 events)", ["XXVI-9"]),
    ]
    wipo = page.xpath("//article[@data-treaty='WIPO-843']")[0]
    assert wipo.findtext(".//h3/a/span") == "WIPO-843"
    assert "Marrakesh VIP Treaty" in wipo.find(".//h3/a").text_content()
    line = " ".join(wipo.find(".//li").text_content().split())
    assert "Austria became a party (ratification), 2026-02-10 (AUT)" in line
    tpnw = page.xpath("//article[@data-treaty='XXVI-9']")[0]
    text = " ".join(tpnw.text_content().split())
    assert TPNW in text and "The entry-into-force threshold was met" in text
    assert "threshold_crossed" not in page.text_content()  # words, never stored names
    assert "entered_into_force" not in page.text_content()
    assert page.get_element_by_id("changes-count").text_content().startswith("74 events")


def test_the_changes_page_filters_and_paginates(client, monkeypatch):
    wipo = doc(client.get("/changes?source=wipo"))
    assert [treaties for _, treaties in days(wipo)] == [["WIPO-843"]]
    consent = doc(client.get("/changes?kind=consent&country=aut"))
    assert [treaties for _, treaties in days(consent)] == [["WIPO-843"], ["XXVI-9"]]
    assert len(consent.xpath("//li[contains(@class, 'event-consent')]")) == 2
    assert consent.xpath("//select[@id='kind']/option[@selected]/@value") == ["consent"]
    since = doc(client.get("/changes?since=2026-02-05"))
    assert [treaties for _, treaties in days(since)] == [["WIPO-843"]]
    baseline = doc(client.get("/changes?baseline=include"))
    assert "WIPO-29" in {t for _, treaties in days(baseline) for t in treaties}
    assert "already so at the first look" in baseline.text_content()

    monkeypatch.setattr(changes_web, "PAGE_SIZE", 50)
    first = doc(client.get("/changes?kind=consent"))
    assert len(first.xpath("//li[@data-event]")) == 50
    (older,) = first.xpath("//nav[@class='pager']/a[@rel='next']/@href")
    assert older == "/changes?kind=consent&page=2"
    second = doc(client.get(older))
    shown = first.xpath("//li/@data-event") + second.xpath("//li/@data-event")
    assert len(second.xpath("//li[@data-event]")) == 72 - 50 and len(set(shown)) == 72
    assert second.xpath("//nav[@class='pager']/a[@rel='prev']/@href") == ["/changes?kind=consent"]
    assert not second.xpath("//a[@rel='next']")


BAD = [
    ("since=yesterday", "since must be a date"),
    ("since=2026-02-30", "since must be a date"),
    ("kind=ratified", "kind must be one of"),
    ("source=ilo", "source must be one of"),
    ("country=France", "country must be an ISO 3166 alpha-3 code"),
    ("page=0", "page must be a whole number"),
    ("page=abc", "page must be a whole number"),
]


def test_bad_filters_get_a_page_saying_what_was_wrong(client):
    for query, words in BAD:
        answer = client.get(f"/changes?{query}")
        assert answer.status_code == 422, query
        assert words in answer.text, query


def test_a_page_past_the_end_says_no_events(client):
    page = doc(client.get("/changes?page=99"))
    assert days(page) == [] and "No events" in page.text_content()


def test_the_navigation_links_the_changes_page_and_pages_announce_their_feeds(client):
    overview = doc(client.get("/"))
    assert overview.xpath("//nav[@aria-label='Site']/a[@href='/changes']/text()") == [
        "What changed"
    ]
    alternate = "//head/link[@rel='alternate'][@type='application/atom+xml']/@href"
    assert overview.xpath(alternate) == ["/feeds/events.atom"]
    assert doc(client.get("/changes")).xpath(alternate) == ["/feeds/events.atom"]
    treaty = doc(client.get("/treaties/WIPO-843")).xpath(alternate)
    assert treaty == ["/feeds/events.atom", "/feeds/treaties/WIPO-843.atom"]
    for href in treaty:  # each announced feed answers
        assert client.get(href).headers["content-type"].startswith("application/atom+xml")


# --- feeds and /api/events/{id} -------------------------------------------------------------


def test_every_feed_entry_id_resolves_to_its_event(client):
    entries = feed(client, "/feeds/events.atom?baseline=true").findall(f"{ATOM}entry")
    assert len(entries) == 75
    for entry in entries:
        url = entry.findtext(f"{ATOM}id")
        assert url.startswith(f"{PUBLIC}/api/events/")
        answer = client.get(url.removeprefix(PUBLIC))
        assert answer.status_code == 200, url
        event = answer.json()
        assert f"{PUBLIC}/treaties/{event['treaty']}" == entry.find(f"{ATOM}link").get("href")
        assert entry.findtext(f"{ATOM}title").startswith(f"{event['treaty']} ({event['title']})")
        assert event["baseline"] == (entry.find(f"{ATOM}category[@term='baseline']") is not None)


def test_an_unknown_event_id_is_a_404_and_the_route_is_documented(client):
    for path in ("/api/events/999999", f"/api/events/{2**31 - 1}"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json() == {"detail": "no event " + path[12:]}
    assert client.get("/api/events/0").status_code == 422
    assert client.get(f"/api/events/{2**31}").status_code == 422
    spec = client.get("/openapi.json").json()["paths"]["/api/events/{event_id}"]["get"]
    assert {"200", "404"} <= set(spec["responses"])


def test_the_default_feed_leaves_the_baseline_out_and_names_each_treaty(client):
    default = feed(client, "/feeds/events.atom")
    titles = [e.findtext(f"{ATOM}title") for e in default.findall(f"{ATOM}entry")]
    assert len(titles) == 74 and not any("WIPO-29" in t for t in titles)
    assert titles[0] == (
        "WIPO-843 (Marrakesh VIP Treaty): Austria became a party (ratification) on 2026-02-10"
    )
    assert all(
        t.startswith(("WIPO-843 (Marrakesh VIP Treaty)", f"XXVI-9 ({TPNW})")) for t in titles
    )
    # baseline included: marked in the title and by a category
    wipo29 = feed(client, "/feeds/treaties/WIPO-29.atom?baseline=true").findall(f"{ATOM}entry")
    (entry,) = wipo29
    assert "[baseline: already so at the tracker's first look]" in entry.findtext(f"{ATOM}title")
    assert entry.find(f"{ATOM}category[@term='baseline']") is not None
    self_link = feed(client, "/feeds/events.atom?source=wipo&baseline=true").find(
        f"{ATOM}link[@rel='self']"
    )
    assert self_link.get("href") == f"{PUBLIC}/feeds/events.atom?source=wipo&baseline=true"


def test_an_empty_feed_is_updated_at_the_last_check_never_1970(client, session_factory, settings):
    # WIPO-29's only event is a baseline: its default feed is empty, checked at the seed
    empty = feed(client, "/feeds/treaties/WIPO-29.atom")
    assert empty.findall(f"{ATOM}entry") == []
    assert datetime.fromisoformat(empty.findtext(f"{ATOM}updated")) == SEEDED_NOON
    # a feed with entries: its newest entry
    wipo = feed(client, "/feeds/events.atom?source=wipo")
    assert datetime.fromisoformat(wipo.findtext(f"{ATOM}updated")) == datetime(
        2026, 2, 11, 12, tzinfo=UTC
    )


def test_a_feed_of_a_tracker_that_checked_nothing_is_updated_now(session_factory, settings):
    client = make_client(session_factory, settings)  # an empty database
    root = feed(client, "/feeds/events.atom")
    assert root.findall(f"{ATOM}entry") == []
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == CLOCK
