"""The participants table's cells: one Action per printed cell, shared by the cells printed alike."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain.models import Action, Column
from tracker.sources import PageRejected
from tracker.sources.untc.table import build_participant, cell_action


def test_a_cell_gives_its_action_and_the_same_cell_the_same_instance() -> None:
    first = cell_action("24 Sep\t 2003 a ", Column.CONSENT)
    assert first == Action(Column.CONSENT, "accession", date(2003, 9, 24), "a", False)
    assert cell_action("24 Sep\t 2003 a ", Column.CONSENT) is first
    # The column is part of what a cell means: an unlettered date in each of the three.
    kinds = [cell_action("1 Jan 2020", role).kind for role in Column]
    assert kinds == ["signature", "ratification", "provisional_application"]
    assert cell_action("[ 9 Jan 2012 d]", Column.SIGNATURE) == Action(
        Column.SIGNATURE, "succession_to_signature", date(2012, 1, 9), "d", True
    )
    assert cell_action("\xa0 ", Column.CONSENT) is None


@pytest.mark.parametrize("raw", ["1 Jan 2020 x", "31 Feb 2020", "soon"])
def test_an_unreadable_cell_is_refused_each_time_it_is_read(raw: str) -> None:
    for _ in range(2):  # a refusal is not remembered as an answer
        with pytest.raises(ValueError):
            cell_action(raw, Column.CONSENT)
    with pytest.raises(PageRejected, match=r"row 3 \(Chad\), consent column: "):
        build_participant("Chad", (), ["", raw], (Column.SIGNATURE, Column.CONSENT), 3)


def test_a_participant_keeps_its_printed_name_refs_and_actions_in_column_order() -> None:
    roles = (Column.SIGNATURE, Column.CONSENT)
    chad = build_participant("Chad", ("2",), ["12 Jan 1977", "17 May 1977 a"], roles, 1)
    assert (chad.name, chad.iso3, chad.footnotes) == ("Chad", "TCD", ("2",))
    assert [(a.column, a.kind) for a in chad.actions] == [
        (Column.SIGNATURE, "signature"),
        (Column.CONSENT, "accession"),
    ]
    assert chad.is_signatory and chad.is_party
    with pytest.raises(PageRejected, match="empty participant name"):
        build_participant("", (), ["", ""], roles, 2)
