"""Every surface with two depositaries in one database (support.two_sources: UNTC's own pages and
WIPO Lex's fixtures): public ids everywhere, `?source=` on every list of treaties or events,
the source in every export, the printed per-party entry into force beside the computed one,
a country's treaties of both sources; the CLI's lists and answers likewise."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker
from support.two_sources import SEEDED, austria_ratifies_marrakesh, seed_two_sources

from tracker.cli import main
from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.db

UNTC = {"XXVI-4", "XXVI-9"}
WIPO = {"WIPO-2", "WIPO-29", "WIPO-843"}


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_two_sources(session_factory)
    austria_ratifies_marrakesh(session_factory, "2026-02-11")  # a WIPO-843 consent event
    return session_factory


@pytest.fixture
def client(seeded: sessionmaker[Session], settings: Settings) -> TestClient:
    ANSWERS.clear()  # answers are cached by snapshot ids, which repeat across test databases
    app = create_app(seeded, settings, clock=lambda: datetime(2026, 2, 4, 9, tzinfo=UTC))
    return TestClient(app)


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")  # the byte order mark: UTF-8 to Excel
    return list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))


def doc(response):
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.text)


# --- API and exports -----------------------------------------------------------------------


def test_the_treaty_list_filters_by_source_and_exports_public_ids(client):
    every = client.get("/api/treaties").json()
    assert {t["treaty"] for t in every} == UNTC | WIPO
    for slug, ids in (("untc", UNTC), ("wipo", WIPO)):
        only = client.get(f"/api/treaties?source={slug}").json()
        assert {t["treaty"] for t in only} == ids and {t["source"] for t in only} == {slug}
    exported = rows_of(client.get("/api/treaties?source=wipo&format=csv"))
    assert {(r["treaty"], r["source"]) for r in exported} == {(t, "wipo") for t in WIPO}
    refused = client.get("/api/treaties?source=wip")
    assert refused.status_code == 422 and "known: untc, wipo" in refused.text


def test_events_and_feeds_filter_by_source(client):
    every = client.get("/api/events").json()
    assert {e["source"] for e in every} == {"untc", "wipo"}
    wipo = client.get("/api/events?source=wipo").json()
    assert wipo and {e["source"] for e in wipo} == {"wipo"}
    assert {e["treaty"] for e in wipo} <= WIPO and "WIPO-843" in {e["treaty"] for e in wipo}
    untc = client.get("/api/events?source=untc&format=csv")
    assert {(r["source"], r["treaty"] in UNTC) for r in rows_of(untc)} == {("untc", True)}
    assert client.get("/api/events?source=nope").status_code == 422

    feed = client.get("/feeds/events.atom?source=wipo")
    assert feed.status_code == 200
    titles = feed.text.count("<entry>")
    # the default feed leaves out what the first look showed (WIPO-29's `approaching`)
    news = [e for e in wipo if e["state"] == "final" and not e["details"].get("baseline")]
    assert titles == len(news) > 0
    assert "XXVI-" not in feed.text and "/treaties/WIPO-843" in feed.text
    assert "XXVI-9" in client.get("/feeds/events.atom").text
    one = client.get("/feeds/treaties/WIPO-843.atom")
    assert one.status_code == 200 and "Treaty tracker: WIPO-843 Marrakesh VIP Treaty" in one.text


def test_participants_carry_the_printed_entry_into_force_beside_the_computed(client):
    found = client.get("/api/treaties/WIPO-843/participants").json()
    by_name = {p["name"]: p for p in found}
    # WIPO Lex prints each party's own entry into force; on these few rows (4 of the 20
    # instruments art. 18 needs) the rule computes none: both are answered, side by side.
    assert [
        (by_name[n]["published_in_force_from"], by_name[n]["in_force_from"])
        for n in ("Angola", "Austria")
    ] == [("2026-03-15", None), ("2026-05-10", None)]
    exported = rows_of(client.get("/api/treaties/WIPO-843/participants?format=csv"))
    assert {r["name"]: r["published_in_force_from"] for r in exported}["Angola"] == "2026-03-15"
    # UNTC prints no such date: the field is there, empty.
    tpnw = client.get("/api/treaties/XXVI-9/participants").json()
    assert {p["published_in_force_from"] for p in tpnw} == {None}


def test_a_country_answers_with_both_sources_treaties(client):
    austria = client.get("/api/countries/AUT").json()
    by_treaty = {t["treaty"]: t["source"] for t in austria["treaties"]}
    assert by_treaty["XXVI-9"] == "untc" and by_treaty["WIPO-843"] == "wipo"
    only = client.get("/api/countries/AUT?source=wipo").json()
    assert {t["treaty"] for t in only["treaties"]} == {"WIPO-843"}
    exported = rows_of(client.get("/api/countries/AUT?format=csv"))
    assert ("WIPO-843", "wipo") in {(r["treaty"], r["source"]) for r in exported}
    assert ("XXVI-9", "untc") in {(r["treaty"], r["source"]) for r in exported}


# --- the dashboard -------------------------------------------------------------------------


def test_the_overview_filters_by_any_registered_source(client):
    page = doc(client.get("/"))
    links = {a.get("data-source"): a.get("href") for a in page.cssselect("nav.filters a")}
    assert links == {"": "/", "untc": "/?source=untc", "wipo": "/?source=wipo"}
    shown = {a.text for a in doc(client.get("/?source=wipo")).cssselect("table.treaties th a")}
    assert shown == WIPO
    kept = doc(client.get("/?source=wipo&sort=remaining&q=Marrakesh"))
    assert [a.text for a in kept.cssselect("table.treaties th a")] == ["WIPO-843"]
    sort_link = kept.xpath("//p[@class='sorting']//a/@href")[0]
    assert "source=wipo" in sort_link and "q=Marrakesh" in sort_link
    assert client.get("/?source=nowhere").status_code == 422


def test_the_treaty_page_of_a_wipo_treaty(client):
    page = doc(client.get("/treaties/WIPO-843"))
    assert "Marrakesh VIP Treaty" in page.cssselect("h1")[0].text_content()
    source = page.cssselect("span.source")[0]
    assert source.get("data-source") == "wipo"
    link = source.cssselect("a")[0]
    assert link.text == "WIPO Lex (treaties administered by WIPO)"
    assert link.get("href").startswith("https://www.wipo.int/wipolex/en/treaties/ShowResults")
    headers = [th.text_content().strip() for th in page.cssselect("table#participants thead th")]
    assert headers[-2:] == ["In force for it from", "In force for it, as printed"]
    angola = next(
        tr for tr in page.cssselect("table#participants tbody tr") if "Angola" in tr.text_content()
    )
    cells = [td.text_content().strip() for td in angola.cssselect("td")]
    assert cells[-2:] == ["—", "2026-03-15"]  # computed: none (rule not met); printed
    # A UNTC page prints no per-party date: no such column.
    tpnw = doc(client.get("/treaties/XXVI-9"))
    headers = [th.text_content().strip() for th in tpnw.cssselect("table#participants thead th")]
    assert "In force for it, as printed" not in headers
    assert client.get("/treaties/wipo-843").status_code == 200  # the prefix in any case


def test_a_country_page_lists_both_depositaries_treaties(client):
    page = doc(client.get("/countries/AUT"))
    rows = {
        th.text_content(): th.getnext().text_content()
        for th in page.cssselect("table.country th[scope=rowgroup]")
    }
    assert rows["XXVI-9"] == "untc" and rows["WIPO-843"] == "wipo"
    only = doc(client.get("/countries/AUT?source=wipo"))
    assert [th.text_content() for th in only.cssselect("table.country th[scope=rowgroup]")] == [
        "WIPO-843"
    ]
    assert client.get("/countries/AUT?source=x").status_code == 422


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli(seeded, settings, monkeypatch, capsys):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))

    def run(*argv: str) -> str:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    return run


def test_cli_lists_treaties_by_source_with_public_ids(cli):
    table = cli("treaties")
    assert "WIPO-843  wipo" in table and "XXVI-9    untc" in table
    wipo = json.loads(cli("treaties", "--source", "wipo", "--json"))
    assert {t["treaty"] for t in wipo} == WIPO
    assert "XXVI-9" not in cli("treaties", "--source", "wipo")


def test_cli_status_and_history_of_a_wipo_treaty(cli):
    shown = cli("status", "WIPO-843")
    assert shown.startswith("WIPO-843  Marrakesh VIP Treaty")
    assert "printed: - signatories, 4 parties" in shown  # WIPO Lex prints no signatory count
    assert "source wipo https://www.wipo.int/" in shown
    header = next(line for line in shown.splitlines() if line.startswith("participant"))
    assert header.endswith("in force from  printed in force")
    afghanistan = next(line for line in shown.splitlines() if line.startswith("Afghanistan"))
    # computed (none: 4 of 20 instruments) and printed, each in its column
    assert afghanistan.index("2018-10-26") >= header.index("printed in force")
    history = cli("history", "WIPO-843")
    assert history.splitlines()[:2] == ["WIPO-843  Marrakesh VIP Treaty", "source wipo"]
    assert json.loads(cli("history", "wipo-843", "--json"))["treaty"] == "WIPO-843"


def test_cli_events_filter_by_source_and_treaty(cli):
    wipo = json.loads(cli("events", "--source", "wipo", "--json"))
    assert wipo and {(e["source"], e["treaty"] in WIPO) for e in wipo} == {("wipo", True)}
    one = json.loads(cli("events", "--treaty", "WIPO-843", "--json"))
    assert one and {e["treaty"] for e in one} == {"WIPO-843"}
    table = cli("events", "--source", "untc", "--since", SEEDED)
    assert "XXVI-9" in table and "WIPO-" not in table
    assert cli("events", "--source", "wipo", "--since", "2030-01-01") == "no events\n"


def test_cli_rules_filter_by_source(cli):
    wipo = json.loads(cli("rules", "--source", "wipo", "--json"))
    assert wipo and {r["source"] for r in wipo} == {"wipo"}
    assert all(r["treaty"].startswith("WIPO-") for r in wipo)
    assert "WIPO-843" in {r["treaty"] for r in wipo}
    every = json.loads(cli("rules", "--json"))
    assert {r["source"] for r in every} == {"untc", "wipo"} and len(every) > len(wipo)
