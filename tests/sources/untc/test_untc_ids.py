"""UNTC ids: every MTDSG number form is accepted, anything else refused naming the forms; order."""

import pytest

from tracker.sources import registry
from tracker.sources.untc.ids import check_id, sort_key
from tracker.sources.untc.urls import BadTreatyId, parse_treaty_id

# One of each form found in the 407 MTDSG XML files (and the 2026 chapter pages), with its chapter.
FORMS = {
    "XXVI-9": 26,  # chapter-number
    "XXVII-7-d": 27,  # chapter-number-letter
    "IV-11-b": 4,
    "XXVI-2-a": 26,
    "III-2-2": 3,  # chapter-number-number (an annex)
    "III-2-2a": 3,  # chapter-number-number+letter (a revised annex)
    "III-2-12b": 3,
    "XI-A-16": 11,  # chapter-subchapter-number: the chapter is XI, the sub-chapter A
    "XI-E-1": 11,
    "XXIX-1": 29,
}


@pytest.mark.parametrize(("treaty_id", "chapter"), FORMS.items())
def test_every_form_is_accepted_with_its_chapter(treaty_id, chapter):
    assert check_id(treaty_id) == chapter
    registry.check_id("untc", treaty_id)


def test_a_sub_chapter_number_keeps_its_sub_chapter_apart_from_the_chapter():
    number = parse_treaty_id("XI-A-16")
    assert (number.roman, number.chapter, number.subchapter, number.number) == ("XI", 11, "A", 16)
    assert parse_treaty_id("III-2-2a").part == "2a" and parse_treaty_id("XXVI-9").part is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "XXVI",
        "XXVI-",
        "26-9",
        "xxvi-9",
        "XXVI-09",
        "XXVI-9-D",  # parts are lower-case
        "XXVI-9-a-b",
        "XXVI-9-aa",
        "XI-F-1",  # sub-chapters are A to E
        "XI-A",
        "XI-A-16-",
        "IIII-1",  # not a Roman numeral as written
        "XXVI-9; DROP",
        " XXVI-9",
    ],
)
def test_a_bad_form_is_refused_with_a_message_naming_the_forms(bad):
    with pytest.raises(BadTreatyId) as refused:
        check_id(bad)
    message = str(refused.value)
    assert message.startswith(f"not an MTDSG treaty number: {bad!r}")
    for example in ("XXVI-9", "XXVII-7-d", "III-2-2a", "XI-A-16"):
        assert example in message


def test_the_refusal_says_what_is_wrong_with_a_misspelt_numeral():
    with pytest.raises(BadTreatyId, match="IIII is not a Roman numeral as written: IV"):
        check_id("IIII-1")


def test_sort_order_is_the_depositarys():
    ids = [
        "XI-B-1", "XI-A-16", "XI-A-2", "X-2", "XII-1", "III-2-3", "III-2-2a", "III-2-2b",
        "III-2-2", "III-2", "III-2-12", "IV-11-a", "IV-12", "IV-11", "not-an-id", "XXVI-10",
        "XXVI-9",
    ]  # fmt: skip
    assert sorted(ids, key=sort_key) == [
        "III-2", "III-2-2", "III-2-2a", "III-2-2b", "III-2-3", "III-2-12",
        "IV-11", "IV-11-a", "IV-12",
        "X-2", "XI-A-2", "XI-A-16", "XI-B-1", "XII-1",
        "XXVI-9", "XXVI-10",
        "not-an-id",
    ]  # fmt: skip
