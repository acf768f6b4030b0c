"""Withdrawals read from the footnotes of the real UNTC pages (Feb 2026 HTML, Jan 2018 XML).

Every date below was read by eye from the footnote it comes from."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pytest

from tracker.catalogue import rule_for
from tracker.domain.endings import CLAUSE, FOOTNOTE, UNKNOWN
from tracker.domain.evaluate import evaluate as evaluate_with
from tracker.domain.withdrawals import read_withdrawals
from tracker.sources.untc.footnotes import FOOTNOTES

# The pages here are UNTC's: their footnotes are read with UNTC's grammar.
evaluate = partial(evaluate_with, footnotes=FOOTNOTES)

# slow: reads the real depositary pages of ../shared (hundreds of files) to set up
pytestmark = pytest.mark.slow

D = date.fromisoformat
# Bracketed participants over the 247 accepted XML files and the 30 HTML pages (footnotes only,
# no withdrawal clause): with an effective date read, and without.
DATED, UNKNOWN_DATE = 22, 40


def _status(outcomes: list[Any], treaty: str) -> Any:
    found = [o.status for o in outcomes if o.status and o.status.treaty_id == treaty]
    assert len(found) == 1, treaty
    return found[0]


def _dates(outcomes: list[Any], treaty: str) -> dict[str, list[tuple[Any, ...]]]:
    s = _status(outcomes, treaty)
    rule = rule_for("untc", treaty, s)
    found = read_withdrawals(s, FOOTNOTES, rule.withdrawal if rule else None).endings
    return {k: [(e.notified_on, e.effective_on, e.basis) for e in v] for k, v in found.items()}


def test_ottawa_2026_withdrawals(html_outcomes: list[Any]) -> None:
    assert _dates(html_outcomes, "XXVI-5") == {
        "EST": [(D("2025-06-27"), D("2025-12-27"), FOOTNOTE)],
        "FIN": [(D("2025-07-10"), D("2026-01-10"), FOOTNOTE)],
        "LVA": [(D("2025-06-27"), D("2025-12-27"), FOOTNOTE)],
        "LTU": [(D("2025-06-27"), D("2025-12-27"), FOOTNOTE)],
        # Not bracketed on 3 Feb 2026: notified, in effect on 20 February 2026.
        "POL": [(D("2025-08-20"), D("2026-02-20"), FOOTNOTE)],
    }


def test_ottawa_2026_answer_counts_poland_until_its_withdrawal(html_outcomes: list[Any]) -> None:
    s = _status(html_outcomes, "XXVI-5")
    rule = rule_for("untc", "XXVI-5", s)
    assert rule is not None
    before = evaluate(rule, s, as_of=D("2026-02-03"))
    after = evaluate(rule, s, as_of=D("2026-02-21"))
    assert before.qualifying - after.qualifying == 1  # Poland
    assert before.threshold_met_on == after.threshold_met_on == D("1998-09-16")
    assert before.computed == D("1999-03-01") == s.eif_date


def test_cluster_munitions_2026_lithuania(html_outcomes: list[Any]) -> None:
    assert _dates(html_outcomes, "XXVI-6") == {
        "LTU": [(D("2024-09-06"), D("2025-03-06"), FOOTNOTE)]
    }


def test_iccpr_op1_2026(html_outcomes: list[Any]) -> None:
    found = _dates(html_outcomes, "IV-5")
    assert found["BLR"] == [(D("2022-11-08"), D("2023-02-08"), FOOTNOTE)]
    # "notified ... of its denunciation of the Protocol": no effect printed; art. 12(1) gives
    # three months after receipt.
    assert found["JAM"] == [(D("1997-10-23"), D("1998-01-23"), CLAUSE)]
    assert found["TTO"] == [
        (D("1998-05-26"), D("1998-08-26"), FOOTNOTE),
        (D("2000-03-27"), D("2000-06-27"), FOOTNOTE),
    ]
    assert "GUY" not in found  # denounced and re-acceded the same day: its row is the new one


@pytest.mark.parametrize(
    ("treaty", "iso3", "expected"),
    [
        ("VI-14", "NZL", (D("1968-12-17"), D("1969-01-01"), FOOTNOTE)),
        ("VIII-1", "DNK", (D("1967-08-16"), D("1968-08-16"), FOOTNOTE)),
        ("X-14", "COL", (D("2007-11-09"), D("2008-01-08"), FOOTNOTE)),  # sixty days after
        ("X-8", "AUS", (D("2004-09-01"), D("2007-07-31"), FOOTNOTE)),
        ("XI-A-6", "SGP", (D("1999-11-03"), D("2001-02-03"), FOOTNOTE)),
        ("XII-6", "BGR", (D("2008-12-22"), D("2009-12-22"), FOOTNOTE)),
        ("XVI-2", "LUX", (D("2007-07-12"), D("2008-07-12"), FOOTNOTE)),
        ("XIX-30-a", "TUR", (D("1998-08-26"), D("1998-11-24"), FOOTNOTE)),
        # Listed in a table the footnote text does not carry: the date is not known.
        ("XIX-37", "SWE", (None, None, UNKNOWN)),
    ],
)
def test_xml_2018_withdrawals(
    xml_outcomes: list[Any], treaty: str, iso3: str, expected: tuple[Any, ...]
) -> None:
    assert _dates(xml_outcomes, treaty)[iso3][0] == expected


def test_xml_2018_suspended_withdrawal_is_no_ending(xml_outcomes: list[Any]) -> None:
    assert "TTO" not in _dates(xml_outcomes, "X-8")  # "decision to suspend the withdrawal"


def test_every_bracketed_consent_has_an_ending(
    xml_outcomes: list[Any], html_outcomes: list[Any]
) -> None:
    """No bracketed instrument is left without an ending, dated or said unknown; report them."""
    dated = unknown = 0
    for o in [*xml_outcomes, *html_outcomes]:
        if o.status is None:
            continue
        found = read_withdrawals(o.status, FOOTNOTES).endings
        for p in o.status.participants:
            if any(a.withdrawn for a in p.actions):
                assert p.key in found, (o.status.treaty_id, p.name)
                if found[p.key][-1].effective_on:
                    dated += 1
                else:
                    unknown += 1
    print(f"\nbracketed participants: {dated} with an effective date, {unknown} unknown")
    assert (dated, unknown) == (DATED, UNKNOWN_DATE)
