"""Month names and day-month-year dates (tracker.domain.dates): the one table every reader uses."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tracker.domain.dates import MONTH_PATTERN, make_date, month_number


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("7", "July", "2017"), date(2017, 7, 7)),
        (("1", "may", "1990"), date(1990, 5, 1)),
        (("10", "NOVEMBER", "1998"), date(1998, 11, 10)),
    ],
)
def test_full_month_names_in_any_case(parts, expected):
    assert make_date(*parts) == expected


def test_abbreviations_only_where_asked():
    assert make_date("29", "Jul", "2020", abbreviated=True) == date(2020, 7, 29)
    assert make_date("3", "Sept", "2001", abbreviated=True) == date(2001, 9, 3)
    assert make_date("29", "Jul", "2020") is None
    assert month_number("sept") is None and month_number("sept", abbreviated=True) == 9


@pytest.mark.parametrize("parts", [("31", "Feb", "2020"), ("7", "Foo", "2017"), ("0", "May", "1")])
def test_no_such_day_or_month_is_none(parts):
    assert make_date(*parts, abbreviated=True) is None


def test_the_pattern_matches_every_full_name_only():
    names = re.compile(rf"(?:{MONTH_PATTERN})")
    assert all(names.fullmatch(n) for n in MONTH_PATTERN.split("|"))
    assert len(MONTH_PATTERN.split("|")) == 12 and not names.fullmatch("jul")
