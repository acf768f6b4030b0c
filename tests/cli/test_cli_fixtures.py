"""The command line on the recorded UNTC pages of tests/fixtures/untc with the real parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.cli import main

pytestmark = pytest.mark.db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "untc"
needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "viewdetails_3col.html").exists(), reason="tests/fixtures/untc not there yet"
)


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))


@needs_fixtures
def test_ingest_recorded_pages_keeps_the_good_and_reports_the_bad(env, capsys):
    pages = [
        FIXTURES / n
        for n in (
            "viewdetails_3col.html",
            "viewdetails_maintenance.html",
            "viewdetails_4col_provisional.html",
        )
    ]
    assert main(["ingest", "--source", "untc", *map(str, pages)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    bad = [line for line in lines if line.startswith("quarantined")]
    assert len(bad) == 1 and "viewdetails_maintenance.html: " in bad[0]
    assert main(["treaties", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["treaty"] for t in listed] == ["IV-5", "XXVI-6"]

    assert main(["status", "IV-5", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["signatories"], status["parties"]) == (
        status["published"]["signatories"],
        status["published"]["parties"],
    )
    assert status["observed_at"].startswith("2026-02-03")  # the page's own "status as at"
    assert all(p["name"] and "withdrawn" in p for p in status["participants"])

    assert main(["ingest", "--source", "untc", str(pages[0])]) == 0
    assert capsys.readouterr().out.startswith("unchanged   IV-5")
