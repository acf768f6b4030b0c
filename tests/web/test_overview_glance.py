"""The overview at a glance: stage and entry into force (computed and printed) of every treaty,
closest to entering into force first, filters by words, stage, chapter and source, pages, and
the depositary's "status as at" beside the observation (support.glance's four treaties)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from support.glance import (
    CTBT_TITLE,
    ICESCR_COMPUTED,
    ICESCR_PRINTED,
    ORDER_CLOSEST,
    STALE_PRINTED,
    TPNW_EIF,
    seed_glance,
)

from tracker.services.answer_cache import ANSWERS
from tracker.web import dashboard_view
from tracker.web.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]


@pytest.fixture
def client(session_factory, settings):
    seed_glance(session_factory)
    ANSWERS.clear()
    app = create_app(session_factory, settings, clock=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC))
    with TestClient(app) as c:
        yield c


def _rows(text: str) -> list[lxml_html.HtmlElement]:
    return lxml_html.fromstring(text).cssselect("table.treaties tbody tr")


def _ids(text: str) -> list[str]:
    return [r.get("data-treaty") for r in _rows(text)]


def _cell(row: lxml_html.HtmlElement, css: str) -> str:
    return " ".join(row.cssselect(css)[0].text_content().split())


def test_every_row_shows_its_stage_and_entry_into_force(client):
    answer = client.get("/")
    assert answer.status_code == 200
    rows = {r.get("data-treaty"): r for r in _rows(answer.text)}
    assert {t: r.get("data-stage") for t, r in rows.items()} == {
        "IV-3-a": "not in force",
        "XXVI-4": "not in force",
        "XXVI-9": "threshold met",
        "IV-3": "in force",
    }
    assert _cell(rows["XXVI-9"], "td.eif") == TPNW_EIF  # computed; nothing printed yet
    # computed and printed, and that they differ
    assert _cell(rows["IV-3"], "td.eif") == f"{ICESCR_COMPUTED} printed {ICESCR_PRINTED} differs"
    assert _cell(rows["IV-3-a"], "td.eif") == "not yet"
    assert _cell(rows["XXVI-4"], "td.stage") == "not in force"


def test_closest_to_entering_into_force_first_by_default(client):
    assert _ids(client.get("/").text) == ORDER_CLOSEST
    assert _ids(client.get("/?sort=closest").text) == ORDER_CLOSEST
    assert _ids(client.get("/?sort=treaty").text) == ["IV-3", "IV-3-a", "XXVI-4", "XXVI-9"]
    remaining = _ids(client.get("/?sort=remaining").text)
    assert remaining[-2:] == ["IV-3-a", "XXVI-4"]  # 2, then 41 remaining


def test_search_by_words_not_one_substring(client):
    assert _ids(client.get("/?q=Nuclear Test").text) == ["XXVI-4"]  # Nuclear-Test-Ban
    assert _ids(client.get("/?q=test nuclear").text) == ["XXVI-4"]  # any order
    assert _ids(client.get("/?q=nuclear&sort=treaty").text) == ["XXVI-4", "XXVI-9"]
    assert _ids(client.get("/?q=xxvi-9").text) == ["XXVI-9"]  # an id as typed
    assert _ids(client.get("/?q=covenant cultural").text) == ["IV-3-a", "IV-3"]
    none = client.get("/?q=nuclear whales")
    assert _ids(none.text) == [] and "No tracked treaty matches" in none.text


def test_filters_by_stage_chapter_and_source(client):
    assert _ids(client.get("/?stage=not in force").text) == ["IV-3-a", "XXVI-4"]
    assert _ids(client.get("/?stage=threshold-met").text) == ["XXVI-9"]
    assert _ids(client.get("/?chapter=IV").text) == ["IV-3-a", "IV-3"]
    assert _ids(client.get("/?chapter=xxvi&stage=not+in+force").text) == ["XXVI-4"]
    assert _ids(client.get("/?source=wipo").text) == []
    assert _ids(client.get("/?source=untc&chapter=XXVI").text) == ["XXVI-4", "XXVI-9"]
    doc = lxml_html.fromstring(client.get("/?chapter=IV").text)
    chapters = [o.get("value") for o in doc.cssselect("select#chapter option")]
    assert chapters == ["", "IV", "XXVI"]
    assert doc.cssselect("select#chapter option[selected]")[0].get("value") == "IV"
    # a link keeps the other filters (and the sort) and changes one
    stage_link = doc.cssselect('nav[aria-label="Filter by stage"] a[data-stage="in force"]')[0]
    assert stage_link.get("href") == "/?stage=in+force&chapter=IV"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("stage=over", "stage must be one of not in force, threshold met, in force"),
        ("chapter=%3Cb%3E", "chapter must be a chapter number"),
        ("page=0", "page must be a whole number from 1"),
        ("page=two", "page must be a whole number from 1"),
        ("sort=nearest", "sort must be one of closest, treaty, remaining"),
    ],
)
def test_bad_filters_get_a_page_that_says_why(client, query, words):
    answer = client.get(f"/?{query}")
    assert answer.status_code == 422 and words in answer.text


def test_pages(client, monkeypatch):
    monkeypatch.setattr(dashboard_view, "PAGE_SIZE", 3)
    first = client.get("/")
    assert _ids(first.text) == ORDER_CLOSEST[:3]
    assert "1–3 shown, page 1 of 2" in first.text
    doc = lxml_html.fromstring(first.text)
    assert doc.cssselect("nav.pages a[rel=next]")[0].get("href") == "/?page=2"
    second = client.get("/?page=2")
    assert _ids(second.text) == ORDER_CLOSEST[3:]
    assert "4–4 shown, page 2 of 2" in second.text
    assert (
        lxml_html.fromstring(second.text).cssselect("nav.pages a[rel=prev]")[0].get("href") == "/"
    )
    beyond = client.get("/?page=9")
    assert beyond.status_code == 200 and _ids(beyond.text) == []
    assert "No page 9: there are 2 pages" in beyond.text
    # a filter's link goes back to the first page
    links = lxml_html.fromstring(second.text).cssselect('a[data-stage="in force"]')
    assert links[0].get("href") == "/?stage=in+force"


def test_status_as_at_beside_the_observation_and_a_note_when_old(client):
    rows = {r.get("data-treaty"): r for r in _rows(client.get("/").text)}
    stale = _cell(rows["IV-3-a"], "td.checked")
    assert stale.startswith(f"as at {STALE_PRINTED} observed 2026-11-20 12:00 UTC")
    assert f"printed as at {STALE_PRINTED}, 10 months before it was observed" in stale
    fresh = _cell(rows["XXVI-9"], "td.checked")
    assert fresh == "as at 2026-11-19 observed 2026-11-20 12:00 UTC"
    assert not rows["XXVI-9"].cssselect(".printed-note")


def test_treaty_page_shows_the_status_as_at_and_the_note(client):
    text = " ".join(
        lxml_html.fromstring(client.get("/treaties/IV-3-a").text).text_content().split()
    )
    assert f"status as at {STALE_PRINTED}" in text
    assert f"printed as at {STALE_PRINTED}, 10 months before it was observed" in text
    fresh = " ".join(
        lxml_html.fromstring(client.get("/treaties/XXVI-9").text).text_content().split()
    )
    assert "status as at 2026-11-19" in fresh and "before it was observed" not in fresh


def test_no_raw_stored_words_on_the_pages(client):
    for path in ("/", "/treaties/XXVI-9", "/treaties/IV-3", "/treaties/XXVI-4"):
        text = lxml_html.fromstring(client.get(path).text).text_content()
        for raw in ("consent_to_be_bound", "threshold_crossed", "entered_into_force", "_"):
            assert raw not in text.replace(CTBT_TITLE, ""), (path, raw)
