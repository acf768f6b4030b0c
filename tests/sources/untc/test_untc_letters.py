"""UNTC's action letters: the table parsers' per-column look-up (kinds_for) says what kind_for says."""

from __future__ import annotations

import pytest

from tracker.domain.models import Column
from tracker.sources.untc.letters import (
    LETTER_KINDS,
    PROVISIONAL_LETTER_KINDS,
    SIGNATURE_LETTER_KINDS,
    kind_for,
    kinds_for,
)

_PRINTED = {*LETTER_KINDS, *SIGNATURE_LETTER_KINDS, *PROVISIONAL_LETTER_KINDS}
_LETTERS = [*sorted(_PRINTED), "x", "aa", "S", "D", "N", "b", "Z"]


@pytest.mark.parametrize("column", list(Column))
def test_kinds_for_a_column_gives_what_kind_for_gives_and_lacks_what_it_refuses(column):
    kinds = kinds_for(column)
    for letter in _LETTERS:
        try:
            expected = kind_for(column, letter)
        except ValueError:
            assert letter not in kinds, letter
        else:
            assert kinds[letter] == expected, letter


def test_the_signature_column_reads_its_own_letters():
    assert kinds_for(Column.SIGNATURE)[""] == "signature"
    assert kinds_for(Column.CONSENT)[""] == "ratification"
    assert kinds_for(Column.PROVISIONAL)[""] == "provisional_application"
    assert kinds_for(Column.SIGNATURE)["a"] == "accession"  # the general letters too
