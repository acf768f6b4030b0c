"""`tracker status ID --missing` (text and --json) over pages of the project's own ingested
through the real parsers: UNTC's TPNW (support.own_pages) and WIPO's Marrakesh Treaty
(tests/fixtures/wipo/marrakesh_few.html)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import own_pages

from tracker.cli import main
from tracker.services.ingest import FetchedPage, ingest_page

pytestmark = pytest.mark.db

NOON = datetime(2026, 2, 3, 12, tzinfo=UTC)
WIPO = Path(__file__).parents[1] / "fixtures" / "wipo" / "marrakesh_few.html"
WIPO_URL = "https://www.wipo.int/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=843"


@pytest.fixture
def env(monkeypatch, settings, session_factory):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    for source, url, body, expected in (
        ("untc", own_pages.url_of("XXVI-9"), own_pages.tpnw_page(), "XXVI-9"),
        ("wipo", WIPO_URL, WIPO.read_bytes(), "843"),
    ):
        page = FetchedPage(source, url, body, NOON, NOON, expected_treaty=expected)
        assert ingest_page(session_factory, page).outcome == "accepted"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_json_is_the_service_answer(env, capsys):
    code, out, _ = run(capsys, "status", "XXVI-9", "--missing", "--json")
    assert code == 0
    found = json.loads(out)
    c = found["counts"]
    assert c["parties"] + c["signed_not_ratified"] + c["not_signed"] + c["withdrawn"] == 193
    assert found["reference"]["members"] == 193 and found["observed_at"].startswith("2026-02-03")
    assert all(set(e) >= {"iso3", "name", "signed"} for e in found["not_signed"])


def test_missing_text_names_the_lists_and_the_reference(env, capsys):
    code, out, _ = run(capsys, "status", "XXVI-9", "--missing")
    found = json.loads(run(capsys, "status", "XXVI-9", "--missing", "--json")[1])
    assert code == 0
    c = found["counts"]
    assert f"{c['signed_not_ratified']} signed, not ratified; {c['not_signed']} not signed" in out
    assert "version 1" in out and "(193 Members)" in out
    assert f"signed, not ratified ({c['signed_not_ratified']}):" in out
    first = found["signed_not_ratified"][0]
    assert any(
        line.split()[:1] == [first["iso3"]] and first["signed"] in line for line in out.splitlines()
    )
    assert f"not signed ({c['not_signed']}):" in out
    assert "never missing" in out  # the pycountry territories of the own page


def test_missing_of_a_wipo_treaty(env, capsys):
    code, out, _ = run(capsys, "status", "WIPO-843", "--missing", "--json")
    assert code == 0
    found = json.loads(out)
    assert found["treaty"] == "WIPO-843" and found["source"] == "wipo"
    assert [e["iso3"] for e in found["signed_not_ratified"]] == ["AUT"]
    assert found["signed_not_ratified"][0]["signed"] == "2014-06-25"
    assert found["counts"]["parties"] == 2  # Afghanistan, Angola (the EU is not a UN Member)
    assert [p["name"] for p in found["not_in_reference"]] == ["European Union (EU)"]


def test_missing_with_a_past_date_or_unknown_treaty_is_one_error_line(env, capsys):
    code, _, err = run(capsys, "status", "XXVI-9", "--missing", "--as-of", "2020-01-01")
    assert code == 2 and err.count("\n") == 1 and "latest status only" in err
    code, _, err = run(capsys, "status", "XXVI-99", "--missing")
    assert code == 2 and err.count("\n") == 1 and "unknown treaty" in err
