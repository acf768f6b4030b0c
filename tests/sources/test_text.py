"""Shared text helpers: whitespace, dates, counts, footnote markers and table cells."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.sources.text import (
    Cell,
    clean,
    leading_date,
    parse_cell,
    parse_count,
    place_and_date,
    split_refs,
    strip_literal_tags,
    strip_superscripts,
)


def test_clean_folds_nbsp_tabs_and_line_breaks() -> None:
    assert clean(" \xa03 Jun\t 2013 \r\n") == "3 Jun 2013"
    assert clean("Signatories :   130.\n   Parties :  117") == "Signatories : 130. Parties : 117"
    assert clean(None) == ""
    assert clean("") == ""


def test_leading_date_only_at_the_start() -> None:
    assert leading_date("24 December 2014, in accordance with article 22.") == date(2014, 12, 24)
    assert leading_date("4\xa0November 2016, in accordance with article 21(1).") == date(
        2016, 11, 4
    )
    assert leading_date("2 December 1983 in accordance with article 5 (1) and (3).") == date(
        1983, 12, 2
    )
    assert (
        leading_date("provisionally on 16 November 1994, in accordance with article 7(1)") is None
    )
    assert (
        leading_date("[see article XIV]. This Treaty will enter into force 180 days after") is None
    )
    assert leading_date("") is None


def test_place_and_date() -> None:
    assert place_and_date("New York, 7 July 2017") == ("New York", date(2017, 7, 7))
    assert place_and_date("  Lake Success, New York,\n 9 May 1950 ") == (
        "Lake Success, New York",
        date(1950, 5, 9),
    )
    assert place_and_date("Geneva") == ("Geneva", None)
    assert place_and_date("") == (None, None)


def test_parse_count() -> None:
    assert parse_count(" 117 ") == 117
    assert parse_count("") is None
    assert parse_count(None) is None
    assert parse_count("n/a") is None


def test_split_refs() -> None:
    assert split_refs("4, 5") == ("4", "5")
    assert split_refs("2,3") == ("2", "3")
    assert split_refs(" 1 , 2 , 3 ") == ("1", "2", "3")


def test_strip_superscripts_captures_refs() -> None:
    assert strip_superscripts("Denmark<superscript>1</superscript>") == ("Denmark", ("1",))
    assert strip_superscripts("Participant<superscript>4,5</superscript>") == (
        "Participant",
        ("4", "5"),
    )
    assert strip_superscripts("VII<superscript>1</superscript>") == ("VII", ("1",))
    assert strip_superscripts("A<superscript>1</superscript> B<superscript>2</superscript>") == (
        "A B",
        ("1", "2"),
    )
    assert strip_superscripts("Chile") == ("Chile", ())


def test_strip_literal_tags_keeps_the_words() -> None:
    assert (
        strip_literal_tags("<i>Netherlands (6 August 1999): </i>") == "Netherlands (6 August 1999):"
    )
    assert strip_literal_tags('<a href="x.pdf" target="_blank">Certified true copy</a>') == (
        "Certified true copy"
    )
    assert strip_literal_tags("less than 5 < 6 and 7 > 2") == "less than 5 < 6 and 7 > 2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("29 Jul\t 2020 a", Cell(date(2020, 7, 29), "a", False)),
        (" \xa03 Jun\t 2013 ", Cell(date(2013, 6, 3), "", False)),
        ("[12 May\t 2004 a]", Cell(date(2004, 5, 12), "a", True)),
        ("[ \xa09 Jan\t 2012 a]", Cell(date(2012, 1, 9), "a", True)),
        ("[26 Feb\t 1999 ]", Cell(date(1999, 2, 26), "", True)),
        ("[ 3 Oct 1975 ]", Cell(date(1975, 10, 3), "", True)),
        ("21 Sep 2016 AA", Cell(date(2016, 9, 21), "AA", False)),
        ("12 Aug\t 2013 n", Cell(date(2013, 8, 12), "n", False)),
        ("[24 Mar 2011 n]", Cell(date(2011, 3, 24), "n", True)),
        ("18 Feb 1956 C", Cell(date(1956, 2, 18), "C", False)),
        ("9 Aug\t 2017 P", Cell(date(2017, 8, 9), "P", False)),
        ("10\xa0Nov 1998 p", Cell(date(1998, 11, 10), "p", False)),
    ],
)
def test_parse_cell_forms(raw: str, expected: Cell) -> None:
    assert parse_cell(raw) == expected


@pytest.mark.parametrize("raw", ["", "\xa0", " \xa0 ", None])
def test_parse_cell_empty(raw: str | None) -> None:
    assert parse_cell(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["pending", "[12 May 2004 a", "12 May 2004 a]", "31 Feb 2020", "12 May 2004 abc", "May 2004"],
)
def test_parse_cell_unreadable_raises(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_cell(raw)
