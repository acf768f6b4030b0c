"""compare_formats: two pages of one treaty in two formats, each difference in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from statuses import member, status

from tracker.domain.format_check import compare_formats, describe
from tracker.domain.models import Column, Participant

AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
COK = member("Cook Islands", "COK", consent="2018-09-04", letter="a")
HELD = status(AUT, DZA, COK)


def words(held, other):
    return [d.words for d in compare_formats(held, other)]


def test_the_same_status_agrees_whatever_the_printing():
    # Titles' whitespace, printed names, footnote markers, column headers, EIF text and the
    # "status as at" stamp are not compared; row order does not count either.
    other = replace(
        HELD,
        title="  Treaty  on the\r\nProhibition of Nuclear Weapons ",
        status_as_at=None,
        columns=("Participant<sup>1</sup>", "Signature", "Ratification, Accession(a)"),
        eif_text="a different wording of the article",
        participants=(
            COK,
            replace(AUT, name="Republic of Austria", footnotes=("1",)),
            DZA,
        ),
    )
    assert compare_formats(HELD, other) == ()
    assert describe(()) == "the two formats agree"


def test_a_participant_missing_from_either_side_is_named():
    assert words(HELD, status(AUT, COK)) == [
        "Algeria (DZA) is listed in the html but not in the xml",
        "printed count of signatories: 2 in the html, 1 in the xml",
    ]
    extra = member("Angola", "AGO", sig="2018-01-01")
    found = compare_formats(HELD, status(AUT, DZA, COK, extra))
    assert [(d.what, d.participant, d.words) for d in found] == [
        ("participant", "AGO", "Angola (AGO) is listed in the xml but not in the html"),
        ("count", None, "printed count of signatories: 2 in the html, 3 in the xml"),
    ]


def test_a_date_a_letter_and_a_bracket_that_differ_are_said_each():
    late = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-09")
    assert words(HELD, status(late, DZA, COK)) == [
        "Austria (AUT), consent: dated 8 May 2018 in the html, 9 May 2018 in the xml"
    ]
    accepted = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", letter="A")
    assert words(HELD, status(accepted, DZA, COK)) == [
        "Austria (AUT), consent: ratification in the html, acceptance (A) in the xml"
    ]
    cook = COK.actions[0]
    bracketed = replace(COK, actions=(replace(cook, withdrawn=True),))
    assert words(HELD, status(AUT, DZA, bracketed)) == [
        "Cook Islands (COK), consent: bracketed (withdrawn) in the xml, not in the html",
        "printed count of parties: 2 in the html, 1 in the xml",
    ]


def test_a_cell_only_one_side_has_is_said_with_its_column():
    ratified = member("Algeria", "DZA", sig="2017-09-20", consent="2026-03-02")
    assert words(HELD, status(AUT, ratified, COK)) == [
        "Algeria (DZA), consent: the xml has ratification of 2 Mar 2026, the html has no such cell",
        "printed count of parties: 2 in the html, 3 in the xml",
    ]
    # Two cells in one column against one: the unmatched one is named, not mispaired.
    twice = replace(
        AUT, actions=(*AUT.actions, replace(AUT.actions[1], date=date(2020, 1, 2), letter="a"))
    )
    assert words(status(twice, DZA, COK), HELD) == [
        "Austria (AUT), consent: the html has ratification (a) of 2 Jan 2020, "
        "the xml has no such cell"
    ]


def test_printed_counts_and_entry_into_force_are_compared():
    held = replace(HELD, eif_date=date(2021, 1, 22), in_force=True)
    other = replace(held, eif_date=None, in_force=False, published_parties=3)
    assert words(held, other) == [
        "printed count of parties: 2 in the html, 3 in the xml",
        "printed entry into force: 22 Jan 2021 in the html, none in the xml",
        "printed in force in the html, not yet in force in the xml",
    ]


def test_the_formats_are_named_as_given_and_the_reason_counts_them():
    found = compare_formats(HELD, status(AUT, COK), held_format="xml", other_format="html")
    assert found[0].words == "Algeria (DZA) is listed in the xml but not in the html"
    assert describe(found) == (
        "2 differences: Algeria (DZA) is listed in the xml but not in the html; "
        "printed count of signatories: 2 in the xml, 1 in the html"
    )


def test_a_participant_without_an_iso_code_is_matched_by_its_folded_name():
    org = Participant("European  Union", None, True, (), DZA.actions)
    again = Participant("european union", None, True, (), DZA.actions)
    assert compare_formats(status(org), status(again)) == ()
    other = Participant("European Union", None, True, ())
    assert words(status(org), status(other)) == [
        "European  Union, signature: the html has signature of 20 Sep 2017, "
        "the xml has no such cell",
        "printed count of signatories: 1 in the html, 0 in the xml",
    ]


def test_a_provisional_application_cell_is_its_own_column():
    cell = replace(AUT.actions[1], column=Column.PROVISIONAL, kind="provisional_application")
    prov = replace(AUT, actions=(AUT.actions[0], cell))
    found = words(HELD, status(prov, DZA, COK))
    assert found == [
        "Austria (AUT), consent: the html has ratification of 8 May 2018, the xml has no such cell",
        "Austria (AUT), provisional application: the xml has provisional application of "
        "8 May 2018, the html has no such cell",
        "printed count of parties: 2 in the html, 1 in the xml",
    ]
