"""`tracker treaties` at a glance (stage, threshold, remaining, entry into force, the
depositary's "status as at" and the observation) and `tracker status`'s "status as at", with
stored words shown as words (support.glance's four treaties)."""

from __future__ import annotations

import json

import pytest
from support.glance import ICESCR_COMPUTED, ICESCR_PRINTED, STALE_PRINTED, TPNW_EIF, seed_glance

from tracker.cli import main
from tracker.services.answer_cache import ANSWERS

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]


@pytest.fixture
def seeded(monkeypatch, settings, session_factory):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    seed_glance(session_factory)
    ANSWERS.clear()


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _table(out: str) -> tuple[list[str], dict[str, str]]:
    lines = out.splitlines()
    rows = {line.split()[0]: line for line in lines[2:] if line and not line.startswith("IV-3-a:")}
    return lines, rows


def test_treaties_shows_threshold_remaining_and_entry_into_force(seeded, capsys):
    lines, rows = _table(run(capsys, "treaties"))
    header = lines[0].split("  ")
    assert [h.strip() for h in header if h.strip()] == [
        "treaty",
        "source",
        "sign.",
        "parties",
        "stage",
        "threshold",
        "remaining",
        "entry into force",
        "status as at",
        "observed",
        "title",
    ]
    assert list(rows) == ["IV-3", "IV-3-a", "XXVI-4", "XXVI-9"]
    assert f"{ICESCR_COMPUTED} (printed {ICESCR_PRINTED})" in rows["IV-3"]
    assert " in force " in rows["IV-3"]
    assert TPNW_EIF in rows["XXVI-9"] and " 50 " in rows["XXVI-9"]
    cells = rows["IV-3-a"].split()
    assert cells[:8] == ["IV-3-a", "untc", "0", "8", "not", "in", "force", "10"]
    assert cells[8:12] == ["2", "-", STALE_PRINTED, "2026-11-20"]
    assert f"IV-3-a: printed as at {STALE_PRINTED}, 10 months before it was observed" in lines
    assert " 41 " in rows["XXVI-4"]  # remaining of the 44 Annex 2 States


def test_treaties_json_carries_the_same(seeded, capsys):
    found = {r["treaty"]: r for r in json.loads(run(capsys, "treaties", "--json"))}
    assert found["IV-3-a"]["status_as_at"].startswith(STALE_PRINTED)
    assert (found["IV-3-a"]["threshold"], found["IV-3-a"]["remaining"]) == (10, 2)
    assert found["XXVI-9"]["entry_into_force"] == TPNW_EIF
    assert found["IV-3"]["published_entry_into_force"] == ICESCR_PRINTED


def test_status_prints_the_status_as_at_and_the_note(seeded, capsys):
    out = run(capsys, "status", "IV-3-a")
    assert f"status as at {STALE_PRINTED}T00:00:00+00:00" in out
    assert f"note: printed as at {STALE_PRINTED}, 10 months before it was observed" in out
    fresh = run(capsys, "status", "XXVI-9")
    assert "status as at 2026-11-19" in fresh and "before it was observed" not in fresh


def test_no_raw_stored_words_in_the_output(seeded, capsys):
    out = run(capsys, "status", "IV-3") + run(capsys, "history", "IV-3") + run(capsys, "events")
    for raw in ("threshold_crossed", "entered_into_force", "consent_to_be_bound"):
        assert raw not in out
    assert "threshold crossed" in out and "entered into force" in out
