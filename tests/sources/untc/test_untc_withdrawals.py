"""Reading withdrawals and their dates from a participant's footnotes (the wordings the UNTC
pages print; the real pages are checked in tests/conformance/test_withdrawals_real.py)."""

from __future__ import annotations

import dataclasses
from datetime import date

from statuses import act, status

from tracker.domain.delays import Delay
from tracker.domain.endings import CLAUSE, FOOTNOTE, UNKNOWN
from tracker.domain.models import Column, Footnote, Participant, TreatyStatus
from tracker.domain.withdrawals import read_withdrawals
from tracker.sources.untc.footnotes import FOOTNOTES

D = date.fromisoformat


def page(note: str, *, consent: str = "2003-05-12", bracketed: bool = True, name: str = "Lithuania",
         iso3: str = "LTU") -> TreatyStatus:  # fmt: skip
    p = Participant(
        name, iso3, footnotes=("4",), actions=(act(Column.CONSENT, consent, "", bracketed),)
    )
    return dataclasses.replace(status(p), footnotes=(Footnote("4", note),))


OTTAWA = (
    "On 27 June 2025, the Government of the Republic of Lithuania deposited with the "
    "Secretary-General a notification of withdrawal (See depositary notification "
    "C.N.362.2025.TREATIES-XXVI-5 of 3 July 2025). The withdrawal took effect for Lithuania on "
    "27 December 2025 in accordance with article 20 (3) of the Convention."
)


def only(s: TreatyStatus, clause: Delay | None = None):  # type: ignore[no-untyped-def]
    found = read_withdrawals(s, FOOTNOTES, clause).endings
    assert list(found) == [s.participants[0].key], found
    (ending,) = found[s.participants[0].key]
    return ending


def test_notification_and_effect_both_printed() -> None:
    e = only(page(OTTAWA))
    assert (e.notified_on, e.effective_on, e.basis, e.kind) == (
        D("2025-06-27"), D("2025-12-27"), FOOTNOTE, "withdrawal"
    )  # fmt: skip
    assert "took effect for Lithuania" in e.words


def test_with_effect_from_in_the_same_sentence() -> None:
    note = ("On 8 November 2022, the Government of Lithuania notified the Secretary-General of its "
            "denunciation of the Optional Protocol with effect from 8 February 2023 in accordance "
            "with article 12(1) of the Optional Protocol.")  # fmt: skip
    e = only(page(note))
    assert (e.kind, e.notified_on, e.effective_on) == (
        "denunciation",
        D("2022-11-08"),
        D("2023-02-08"),
    )


def test_a_relative_effect_is_counted_from_the_notification() -> None:
    note = ("On 9 November 2007, the Secretary-General received from the Government of Lithuania a "
            "notification of denunciation. In accordance with the provisions of article XVIII (2) "
            "of the Agreement, the denunciation will take effect sixty days after the date of "
            "receipt of the said notification.")  # fmt: skip
    assert only(page(note)).effective_on == D("2008-01-08")


def test_notification_only_falls_back_to_the_clause_or_says_unknown() -> None:
    note = "On 23 October 1997, the Government of Lithuania notified the Secretary-General of its denunciation of the Protocol."
    e = only(page(note))
    assert (e.notified_on, e.effective_on, e.basis) == (D("1997-10-23"), None, UNKNOWN)
    e = only(page(note), Delay("months", 3))
    assert (e.effective_on, e.basis) == (D("1998-01-23"), CLAUSE)


def test_brackets_without_a_readable_footnote_are_an_ending_of_unknown_date() -> None:
    e = only(page("The ratification is applicable also to the Cook Islands and Niue."))
    assert (e.notified_on, e.effective_on, e.basis) == (None, None, UNKNOWN)


def test_withdrawing_a_reservation_is_not_an_ending() -> None:
    note = ("On 11 August 2017, the Government of Lithuania informed the Secretary-General that it "
            "had decided to withdraw the reservation in respect of article 21, paragraph (a), made "
            "upon ratification.")  # fmt: skip
    assert read_withdrawals(page(note, bracketed=False), FOOTNOTES).endings == {}


def test_another_governments_denunciation_in_the_same_note_is_not_this_ones() -> None:
    note = ("On 24 December 1981, the Secretary-General received from the Government of the United "
            "Kingdom of Great Britain and Northern Ireland a notification of denunciation of the "
            "said Convention. In accordance with article 9 (2), the denunciation will take effect "
            "on 24 December 1982.")  # fmt: skip
    e = only(page(note, name="Luxembourg", iso3="LUX"))
    assert e.basis == UNKNOWN and e.effective_on is None  # bracketed, but not by this note


def test_an_objection_quoting_the_denunciation_clause_is_not_a_denunciation() -> None:
    note = ('France (9 September 1999): [...] While article 12, paragraph 1, of the Protocol provides '
            'that any State Party may denounce the Protocol "at any time", the denunciation may in '
            "no case take effect before three months.")  # fmt: skip
    assert read_withdrawals(page(note, bracketed=False), FOOTNOTES).endings == {}


def test_a_suspended_withdrawal_is_no_ending() -> None:
    note = ("On 27 March 1997, the Government of Lithuania notified the Secretary-General of its "
            "denunciation of the Agreement. The withdrawal was to take effect on 27 September 1997. "
            "On 26 September 1997, the Government of Lithuania notified the Secretary-General of "
            "its decision to suspend the withdrawal from the Agreement.")  # fmt: skip
    assert (
        read_withdrawals(page(note, consent="1988-03-24", bracketed=False), FOOTNOTES).endings == {}
    )


def test_pending_withdrawal_on_a_row_not_yet_bracketed() -> None:
    e = only(page(OTTAWA, consent="1997-12-03", bracketed=False))
    assert e.effective_on == D("2025-12-27")


def test_an_ending_of_an_earlier_instrument_does_not_end_the_one_printed() -> None:
    # Denounced, and re-acceded the same day: the row shows the new accession, unbracketed.
    note = ("The Government of Lithuania had initially acceded to the Optional Protocol on 10 May "
            "1993. On 5 January 1999, the Government of Lithuania notified the Secretary-General "
            "that it had decided to denounce the said Optional Protocol with effect from 5 April "
            "1999. On that same date, the Government of Lithuania re-acceded to the Optional "
            "Protocol with a reservation.")  # fmt: skip
    found = read_withdrawals(page(note, consent="1999-01-05", bracketed=False), FOOTNOTES)
    assert found.endings == {}
    assert [(r.kind, r.on) for r in found.rejoined["LTU"]] == [("accession", D("1999-01-05"))]


def test_two_denunciations_and_a_reaccession_in_order() -> None:
    note = ("The Government of Lithuania acceded to the Optional Protocol on 14 November 1980. On 26 "
            "May 1998 the Government of Lithuania informed the Secretary-General of its decision to "
            "denounce the Optional Protocol with effect from 26 August 1998. On 26 August 1998, the "
            "Government of Lithuania re-acceded to the Optional Protocol with a reservation. On 27 "
            "March 2000, the Government of Lithuania notified the Secretary-General that it had "
            "decided to denounce the Optional Protocol for the second time with effect from 27 June "
            "2000.")  # fmt: skip
    found = read_withdrawals(page(note, consent="1980-11-14"), FOOTNOTES)
    assert [(e.notified_on, e.effective_on) for e in found.endings["LTU"]] == [
        (D("1998-05-26"), D("1998-08-26")),
        (D("2000-03-27"), D("2000-06-27")),
    ]
    assert [r.on for r in found.rejoined["LTU"]] == [D("1998-08-26")]


def test_a_revoked_ratification_is_a_revocation() -> None:
    note = ("On 2 November 2023, the Government of Lithuania notified the Secretary-General of the "
            "revocation of its instrument of ratification, with effect from 2 November 2023.")  # fmt: skip
    e = only(page(note))
    assert (e.kind, e.notified_on, e.effective_on) == (
        "revocation",
        D("2023-11-02"),
        D("2023-11-02"),
    )


def test_the_same_words_read_again_are_read_for_their_own_participant() -> None:
    # The readings are kept per participant and words: each participant gets its own endings,
    # and a footnote about another participant's Government is not its own ending.
    first = only(page(OTTAWA))
    assert only(page(OTTAWA)) == first
    other = read_withdrawals(page(OTTAWA, name="Latvia", iso3="LVA"), FOOTNOTES).endings
    (ending,) = other["LVA"]
    assert ending.participant == "LVA" and ending.basis == UNKNOWN  # the note names Lithuania
    assert only(page(OTTAWA)) == first
