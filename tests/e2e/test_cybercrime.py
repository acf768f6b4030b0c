"""The UN Convention against Cybercrime (XVIII-16), through the real parser and the command line.

Art. 65(1): in force on the 90th day after the 40th instrument of ratification, acceptance,
approval or accession; an instrument of a regional economic integration organization (the EU) is
not counted as additional to its member States'. Pages in the ViewDetails markup: 72 signatories
(71 States and the EU), 39 State ratifications plus the EU's approval is one short; the 40th
State's ratification crosses the threshold, with entry into force on the 90th day.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from support.untc_render import Page, Row, render

from tracker.cli import main

pytestmark = pytest.mark.db

STATES = (
    "Burkina Faso, Costa Rica, Czech Republic, Dominican Republic, New Zealand, South Africa, "
    "Viet Nam, Albania, Angola, Austria, Belgium, Brazil, Bulgaria, Cameroon, Chile, China, "
    "Colombia, Croatia, Cyprus, Denmark, Ecuador, Egypt, Estonia, Finland, France, Georgia, "
    "Germany, Ghana, Greece, Guatemala, Hungary, Iceland, Indonesia, Ireland, Italy, Japan, "
    "Jordan, Kenya, Latvia, Lithuania, Luxembourg, Malaysia, Malta, Mexico, Mongolia, Morocco, "
    "Mozambique, Netherlands, Nigeria, Norway, Panama, Paraguay, Peru, Philippines, Poland, "
    "Portugal, Qatar, Romania, Rwanda, Senegal, Serbia, Singapore, Slovakia, Slovenia, Spain, "
    "Sweden, Switzerland, Thailand, Tunisia, Uganda, Uruguay"
).split(", ")
HANOI = date(2025, 10, 25)
THIRTY_NINTH = date(2026, 1, 5) + timedelta(days=5 * 38)  # the last State instrument before
FORTIETH = date(2026, 9, 15)  # the 40th State instrument
ENTRY_INTO_FORCE = FORTIETH + timedelta(days=90)  # 2026-12-14


def _page(ratified: int, stamp: str) -> bytes:
    rows = []
    for i, name in enumerate(STATES):
        consent = date(2026, 1, 5) + timedelta(days=5 * i) if i < 39 else None
        if i == 39 and ratified == 40:
            consent = FORTIETH
        rows.append(Row(name, signature=HANOI + timedelta(days=i % 2), consent=consent))
    rows.append(Row("European Union", signature=HANOI, consent=date(2026, 3, 2), letter="AA"))
    rows.sort(key=lambda r: r.name)
    return render(
        Page(
            treaty_id="XVIII-16",
            title="United Nations Convention against Cybercrime",
            rows=rows,
            eif_text_not_in_force="(see article 65).",
            status_as_at=stamp,
        )
    )


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert not err, err
    return code, out


def test_one_short_then_the_fortieth_state_crosses_it(env, capsys, tmp_path):
    before, after = tmp_path / "before.html", tmp_path / "after.html"
    before.write_bytes(_page(39, "01-09-2026 10:00:00 EDT"))
    after.write_bytes(_page(40, "20-09-2026 10:00:00 EDT"))

    assert run(capsys, "ingest", "--source", "untc", str(before))[0] == 0
    _code, out = run(capsys, "status", "XVIII-16", "--json")
    short = json.loads(out)
    assert (short["signatories"], short["parties"]) == (72, 40)
    assert short["rule"]["threshold"] == 40 and short["rule"]["reio"] == "not_additional"
    assert short["rule"]["origin"] == "catalogue" and "65(1)" in short["rule"]["citation"]
    assert (short["qualifying_instruments"], short["remaining"], short["threshold_met_on"]) == (
        39,
        1,
        None,
    )
    assert short["entry_into_force"]["computed"] is None

    assert run(capsys, "ingest", "--source", "untc", str(after))[0] == 0
    crossed = json.loads(run(capsys, "status", "XVIII-16", "--json")[1])
    assert (crossed["qualifying_instruments"], crossed["remaining"]) == (40, 0)
    assert crossed["threshold_met_on"] == FORTIETH.isoformat()
    # The page still prints "Not yet in force" beside a table that crosses the threshold: the
    # entry into force is 90 days ahead of the page, so both say "not in force yet".
    assert crossed["entry_into_force"] == {
        "computed": ENTRY_INTO_FORCE.isoformat(),
        "published": None,
        "agrees": True,
        "earliest": None,
    }
    assert not any("disagrees" in w for w in crossed["warnings"])
    fortieth = STATES[39]
    assert [d["participant"] for d in crossed["deciding_deposits"]] == [fortieth]
    in_force = {p["name"]: p["in_force_from"] for p in crossed["participants"]}
    assert in_force[fortieth] == in_force["Albania"] == ENTRY_INTO_FORCE.isoformat()
    assert (
        in_force["European Union"] == ENTRY_INTO_FORCE.isoformat()
    )  # deposited before: with the treaty
    assert in_force["Uruguay"] is None  # signed only

    history = json.loads(run(capsys, "history", "XVIII-16", "--json")[1])
    rule_events = [
        e for e in history["events"] if e["kind"] in ("approaching", "threshold_crossed")
    ]
    assert [(e["kind"], e["legal_date"], e["observed_at"][:10]) for e in rule_events] == [
        ("approaching", THIRTY_NINTH.isoformat(), "2026-09-01"),  # one remaining, seen at baseline
        ("threshold_crossed", FORTIETH.isoformat(), "2026-09-20"),
    ]
    assert rule_events[0]["details"]["baseline"] is True
    event = rule_events[1]
    assert event["participant"] == fortieth
    assert event["details"]["entry_into_force"]["computed"] == ENTRY_INTO_FORCE.isoformat()
    assert event["details"]["baseline"] is False
    assert rule_events[0]["state"] == "final"  # one short and "Not yet in force": agreed
    assert event["state"] == "final"  # crossed, in force 90 days later: alerted
    assert [e["kind"] for e in history["events"]].count("consent") == 1  # the 40th State's

    # As it stood the day before the 40th deposit: one short.
    day_before = (FORTIETH - timedelta(days=1)).isoformat()
    then = json.loads(run(capsys, "status", "XVIII-16", "--as-of", day_before, "--json")[1])
    assert (then["qualifying_instruments"], then["remaining"], then["threshold_met_on"]) == (
        39,
        1,
        None,
    )

    rule = json.loads(run(capsys, "rules", "XVIII-16", "--json")[1])
    assert rule["spec"]["delay"] == {"days": 90} and rule["tracked"] is True
    assert "not counted as additional" in rule["words"]
