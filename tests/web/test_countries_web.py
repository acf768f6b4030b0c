"""The country pages over the project's own UNTC pages (TPNW, CTBT and the Ottawa Convention,
support.own_pages): a country's standing in every tracked treaty, by ISO code or by name, the
index with its search, and the comparison of two to five countries (HTML and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker
from support import own_pages
from web.test_dashboard import seed_pages

from tracker.services import unit_of_work
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.missing import treaty_missing
from tracker.services.read.standing import find_country
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.db

TREATIES = ("XXVI-4", "XXVI-5", "XXVI-9")


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    pages = [(own_pages.url_of(t), own_pages.page_of(t), "2026-02-03") for t in TREATIES]
    seed_pages(session_factory, pages)
    return session_factory


@pytest.fixture
def client(seeded: sessionmaker[Session], settings: Settings) -> TestClient:
    ANSWERS.clear()
    app = create_app(seeded, settings, clock=lambda: datetime(2026, 2, 4, 9, tzinfo=UTC))
    return TestClient(app)


def doc(response):
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.text)


def standing_rows(page) -> dict[str, tuple[str, str, str]]:
    """Treaty -> (standing, date, details) of a country page's standing table."""
    found = {}
    for tr in page.cssselect("table.standing tbody tr"):
        cells = [td.text_content().strip() for td in tr.cssselect("td")]
        found[tr.cssselect("th")[0].text_content().strip()] = (cells[2], cells[3], cells[4])
    return found


def test_a_country_page_gives_the_standing_in_every_tracked_treaty(client):
    austria = doc(client.get("/countries/AUT"))
    assert "Austria" in austria.cssselect("h1")[0].text_content()
    rows = standing_rows(austria)
    assert list(rows) == list(TREATIES)
    assert rows["XXVI-9"] == ("party", "2018-05-08", "party since 2018-05-08 (ratification)")
    assert rows["XXVI-4"][0] == "party"
    # The actions as printed stay below the standing.
    assert austria.cssselect("table.country th[scope=rowgroup]")
    usa = standing_rows(doc(client.get("/countries/USA")))
    assert usa["XXVI-4"][0] == "signed, not ratified" and usa["XXVI-4"][1]
    assert usa["XXVI-9"] == ("not joined", "—", "not joined (no signature, no instrument)")
    estonia = standing_rows(doc(client.get("/countries/EST")))
    assert estonia["XXVI-5"][0] == "withdrawn"
    assert "ratification 2001-05-02" in estonia["XXVI-5"][2]


def test_not_joined_is_the_treaty_pages_answer(seeded):
    """Every Member State the treaty's "not yet joined" answer lists as not signed is "not
    joined" on its country page, and every one it lists as signed is "signed"."""
    with unit_of_work.read(seeded) as session:
        missing = treaty_missing(session, "XXVI-9")
    ANSWERS.clear()
    with TestClient(create_app(seeded, Settings(database_url="sqlite://"))) as c:
        for entry in missing["not_signed"][:3]:
            rows = standing_rows(doc(c.get(f"/countries/{entry['iso3']}")))
            assert rows["XXVI-9"][0] == "not joined", entry
        for entry in missing["signed_not_ratified"][:3]:
            rows = standing_rows(doc(c.get(f"/countries/{entry['iso3']}")))
            assert rows["XXVI-9"][:2] == ("signed, not ratified", entry["signed"]), entry


@pytest.mark.parametrize(
    ("asked", "code"),
    [("france", "FRA"), ("France", "FRA"), ("united-states-of-america", "USA"), ("aut", "AUT")],
)
def test_a_country_is_reached_by_name_or_code(client, asked, code):
    answer = client.get(f"/countries/{asked}?source=untc", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"].endswith(f"/countries/{code}?source=untc")
    assert client.get(f"/countries/{asked}").url.path == f"/countries/{code}"


def test_an_ambiguous_name_lists_its_candidates_and_an_unknown_one_is_a_404(client):
    page = doc(client.get("/countries/korea"))
    links = {a.get("href") for a in page.cssselect("ul.candidates a")}
    assert links == {"/countries/KOR", "/countries/PRK"}
    unknown = client.get("/countries/atlantis")
    assert unknown.status_code == 404
    message = lxml_html.fromstring(unknown.text).cssselect(".notice.error")[0].text_content()
    assert "no country is named 'atlantis'" in message
    assert client.get("/countries/AUT?source=nope").status_code == 422


def test_the_index_lists_every_member_state_and_searches(client, seeded):
    page = doc(client.get("/countries"))
    codes = [tr.get("data-iso3") for tr in page.cssselect("table.countries tbody tr")]
    assert len(codes) >= 193 and {"FRA", "VAT", "PSE"} <= set(codes)
    found = doc(client.get("/countries?q=fin"))
    rows = found.cssselect("table.countries tbody tr")
    assert [r.get("data-iso3") for r in rows] == ["FIN"]
    counts = {td.get("data-standing"): td.text_content() for td in rows[0].cssselect("td.num")}
    assert counts["withdrawn"] == "1" and sum(int(v) for v in counts.values()) == 3
    assert [
        r.get("data-iso3")
        for r in doc(client.get("/countries?q=AUT")).cssselect("table.countries tbody tr")
    ] == ["AUT"]
    with unit_of_work.read(seeded) as session:
        assert find_country(session, "Türkiye").found.iso3 == "TUR"
        assert find_country(session, "cote d'ivoire").found.iso3 == "CIV"


def test_the_comparison_is_a_matrix_of_standings(client):
    page = doc(client.get("/compare?c=AUT,usa,Estonia"))
    heads = [th.get("data-iso3") for th in page.cssselect("table.compare thead th[data-iso3]")]
    assert heads == ["AUT", "USA", "EST"]
    rows = {
        tr.cssselect("th")[0].text_content(): {
            td.get("data-iso3"): td.get("data-standing") for td in tr.cssselect("td[data-iso3]")
        }
        for tr in page.cssselect("table.compare tbody tr")
    }
    assert rows["XXVI-5"] == {"AUT": "party", "USA": "not_joined", "EST": "withdrawn"}
    assert rows["XXVI-4"] == {"AUT": "party", "USA": "signed", "EST": "not_joined"}
    csv_link = page.cssselect("a[href*='format=csv']")[0].get("href")
    answer = client.get(csv_link)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "compare-AUT-USA-EST" in answer.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert [r["treaty"] for r in table] == list(TREATIES)
    nine = table[2]
    assert (nine["AUT_standing"], nine["AUT_date"]) == ("party", "2018-05-08")
    assert (nine["USA_standing"], nine["USA_date"]) == ("not joined", "")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("c=AUT", "compare 2 to 5 countries"),
        ("c=AUT,USA,FRA,DEU,ITA,ESP", "got 6"),
        ("c=AUT,ZZZ", "no single country is 'ZZZ'"),
        ("c=AUT,korea", "it could be"),
        ("c=AUT,austria", "asked twice"),
        ("c=AUT,USA&format=ods", "format must be html, csv or xlsx"),
    ],
)
def test_bad_comparisons_are_a_clear_422(client, query, words):
    page = client.get(f"/compare?{query}")
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert words in lxml_html.fromstring(page.text).cssselect(".notice.error")[0].text_content()
    if "format" not in query:
        exported = client.get(f"/compare?{query}&format=csv")
        assert exported.status_code == 422 and words in exported.json()["detail"]


def test_the_compare_form_and_the_navigation(client):
    form = doc(client.get("/compare?add=AUT"))
    assert form.cssselect("input#compare-c")[0].get("value") == "AUT,"
    nav = {a.get("href") for a in doc(client.get("/")).cssselect("header.site nav a")}
    assert {"/countries", "/compare"} <= nav
