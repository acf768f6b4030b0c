"""`tracker forecast ID [--by DATE ...] [--today DATE] [--json]` over the project's own pages
(support.cybercrime: the 30 treaties of support.own_pages and the Cybercrime convention)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from support import cybercrime

from tracker.cli import main

pytestmark = pytest.mark.db


@pytest.fixture
def env(monkeypatch, settings, session_factory):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    cybercrime.ingest_with_references(session_factory)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_gives_the_dates_the_probabilities_the_method_and_the_count(env, capsys):
    code, out, _ = run(capsys, "forecast", "XVIII-16", "--json", "--today", "2026-12-01")
    assert code == 0
    f = json.loads(out)
    assert (f["state"], f["threshold"], f["qualifying"], f["as_of"]) == (
        "forecast", 40, 5, "2026-12-01",
    )  # fmt: skip
    for part in ("nth_instrument", "entry_into_force"):
        q = {k: date.fromisoformat(v) for k, v in f[part].items()}
        assert set(q) == {"median", "p10", "p90"} and q["p10"] <= q["median"] <= q["p90"]
    nth, eif = f["nth_instrument"], f["entry_into_force"]
    assert date.fromisoformat(eif["median"]) == date.fromisoformat(nth["median"]) + timedelta(90)
    assert list(f["probability_by"]) == ["2026-12-31", "2027-12-31"]
    assert f["method"].startswith("reference class") and f["based_on"] >= 10


def test_by_dates_are_asked_for(env, capsys):
    code, out, _ = run(
        capsys, "forecast", "XVIII-16", "--json", "--by", "2040-01-01", "--by", "2027-01-01"
    )
    p = json.loads(out)["probability_by"]
    assert (
        code == 0 and list(p) == ["2027-01-01", "2040-01-01"] and p["2027-01-01"] <= p["2040-01-01"]
    )


def test_text_says_when_in_words(env, capsys):
    f = json.loads(run(capsys, "forecast", "XVIII-16", "--json", "--today", "2026-12-01")[1])
    code, out, _ = run(capsys, "forecast", "XVIII-16", "--today", "2026-12-01")
    assert code == 0
    nth, eif = f["nth_instrument"], f["entry_into_force"]
    assert "XVIII-16: needs 40 qualifying instruments; 5 so far." in out
    assert f"40th instrument: median {nth['median']} (80%: {nth['p10']} to {nth['p90']})." in out
    assert f"Entry into force: median {eif['median']} (80%: {eif['p10']} to {eif['p90']})." in out
    assert f"Based on {f['based_on']} tracked treaties" in out


def test_no_date_where_none_is_known(env, capsys):
    code, out, _ = run(capsys, "forecast", "XXVI-4")  # CTBT: a named list
    assert code == 0 and "No forecast (not forecast): the named list" in out
    assert "each missing State is its own question" in out and "median" not in out
    code, out, _ = run(capsys, "forecast", "XXVI-9")  # TPNW: in force
    assert code == 0 and "Threshold met: the rule was met on 2020-10-24" in out
    assert "Entry into force (computed): 2021-01-22." in out
    # Before the Cybercrime convention was opened: nothing to forecast from.
    code, out, _ = run(capsys, "forecast", "XVIII-16", "--today", "2025-01-01")
    assert code == 0 and "not yet opened for signature on 2025-01-01" in out


def test_an_unknown_treaty_and_a_bad_date_exit_2(env, capsys):
    code, _, err = run(capsys, "forecast", "XVIII-99")
    assert code == 2 and "unknown treaty 'XVIII-99'" in err
    code, _, err = run(capsys, "forecast", "XVIII-16", "--by", "2027-13-01")
    assert code == 2 and "bad date '2027-13-01'" in err
