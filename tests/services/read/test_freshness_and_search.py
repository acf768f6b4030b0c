"""The rule for an old "status as at" stamp, and the overview's word search (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.services.read.freshness import gap_words, printed_note
from tracker.services.read.treaties import matches


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("printed", "observed", "note"),
    [
        ("2025-04-01", "2025-12-05", "printed as at 2025-04-01, 8 months before it was observed"),
        ("2026-01-20", "2026-11-20", "printed as at 2026-01-20, 10 months before it was observed"),
        ("2026-01-01", "2026-02-15", "printed as at 2026-01-01, 45 days before it was observed"),
        ("2022-03-01", "2025-03-02", "printed as at 2022-03-01, 3 years before it was observed"),
        ("2026-01-01", "2026-01-31", "printed as at 2026-01-01, 30 days before it was observed"),
        ("2026-01-02", "2026-01-31", None),  # 29 days and a half: recent enough
        ("2026-02-03", "2026-02-03", None),
        ("2026-02-05", "2026-02-03", None),  # a stamp after the observation: no note
    ],
)
def test_a_note_from_30_days_on(printed, observed, note):
    assert printed_note(_at(printed, 0).isoformat(), _at(observed).isoformat()) == note
    assert printed_note(_at(printed, 0), _at(observed)) == note  # datetimes too


def test_no_stamp_no_note():
    assert printed_note(None, _at("2026-02-03")) is None
    assert printed_note("2026-01-01T00:00:00+00:00", None) is None


def test_gap_words_count_whole_calendar_months():
    assert gap_words(date(2025, 1, 31), date(2025, 3, 30)) == "58 days"
    assert gap_words(date(2025, 1, 31), date(2025, 4, 30)) == "2 months"  # not yet 3
    assert gap_words(date(2025, 1, 1), date(2026, 12, 31)) == "23 months"
    assert gap_words(date(2026, 1, 1), date(2026, 1, 2)) == "1 day"


CTBT = "Comprehensive Nuclear-Test-Ban Treaty"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Nuclear Test", True),
        ("nuclear-test", True),  # one piece of the text
        ("test ban nuclear", True),  # words in any order
        ("nucl ban", True),  # starts of words
        ("XXVI-4", True),
        ("xxvi 4", True),
        ("clear", True),  # a piece of the text, as before
        ("nuclear weapons", False),
        ("ban treaties", False),
        ("   ", True),  # no words: no filter
    ],
)
def test_word_search(query, found):
    assert matches(query, "XXVI-4", CTBT) is found


def test_word_search_folds_accents_and_case():
    assert matches("cote d'ivoire", "Côte d’Ivoire")
    assert matches("CÔTE", "cote d'ivoire")


def test_a_piece_of_an_id_is_matched_as_typed():
    assert matches("xxvi-2-", "XXVI-2-a", "Protocol")
    assert not matches("xxvi-2-", "XXVI-2", "Convention")  # one piece: not its words
