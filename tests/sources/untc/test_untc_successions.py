"""Predecessor instruments read from footnotes on successors' rows (tracker.domain.successions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from statuses import member, status

from tracker.domain.models import Footnote, Participant, TreatyStatus
from tracker.domain.successions import (
    PredecessorInstrument,
    UnreadableSuccession,
    predecessor_instruments,
)
from tracker.sources.untc.footnotes import FOOTNOTES, read_predecessors

CZECHOSLOVAKIA = (
    "Czechoslovakia had signed and ratified the Convention on 7\xa0October\xa01968 and "
    "23\xa0December 1975, respectively, with reservations and declarations. For the texts of "
    "the reservations and declarations made upon signature and ratification, see United "
    "Nations, Treaty Series , vol. 999, pp. 283 and 289. Subsequently, on 12 March 1991, the "
    "Government of Czechoslovakia had declared the following: [The Czech and Slovak Federal "
    "Republic] recognizes the competence of the Human Rights Committee. Further, on 7 June "
    '1991, the Government of Czechoslovakia had made the following objection: "The Government '
    'of the Czech and Slovak Federal Republic considers the reservations incompatible."'
)
GDR = (
    "The German Democratic Republic had acceded to the Convention on 23 March 1973 with a "
    "reservation and a declaration."
)
SIGNED_ONLY = "The former Yugoslavia had signed the Optional Protocol on 14 March 1990."


def noted(p: Participant, *refs: str) -> Participant:
    return replace(p, footnotes=refs)


def page(*rows: Participant, notes: dict[str, str]) -> TreatyStatus:
    return replace(status(*rows), footnotes=tuple(Footnote(r, t) for r, t in notes.items()))


def cze() -> Participant:
    return member("Czech Republic", "CZE", consent="1993-02-22", letter="d")


def svk() -> Participant:
    return member("Slovakia", "SVK", consent="1993-05-28", letter="d")


def test_signed_and_ratified_respectively_gives_the_second_date_as_ratification() -> None:
    got = predecessor_instruments(page(noted(cze(), "7"), notes={"7": CZECHOSLOVAKIA}), FOOTNOTES)
    assert got.instruments == (
        PredecessorInstrument("Czechoslovakia", "ratification", date(1975, 12, 23), "7", ("CZE",)),
    )
    assert got.unreadable == ()
    assert got.covered("CZE") and not got.covered("SVK")


def test_acceded_on_a_non_succession_row_lists_it_without_reporting_it() -> None:
    germany = noted(member("Germany", "DEU", sig="1968-10-09", consent="1973-12-17"), "3")
    got = predecessor_instruments(page(germany, notes={"3": GDR}), FOOTNOTES)
    assert got.instruments == (
        PredecessorInstrument(
            "German Democratic Republic", "accession", date(1973, 3, 23), "3", ("DEU",)
        ),
    )
    assert got.unreadable == ()


def test_a_signature_alone_is_no_instrument() -> None:
    serbia = noted(member("Serbia", "SRB", consent="2001-03-12", letter="d"), "1")
    got = predecessor_instruments(page(serbia, notes={"1": SIGNED_ONLY}), FOOTNOTES)
    assert got.instruments == ()
    assert got.unreadable == (
        UnreadableSuccession(
            "SRB", "Serbia", date(2001, 3, 12), "no footnote gives the predecessor's instrument"
        ),
    )


def test_two_successors_with_different_refs_of_one_text_give_one_instrument() -> None:
    got = predecessor_instruments(
        page(
            noted(svk(), "9"), noted(cze(), "4"), notes={"4": CZECHOSLOVAKIA, "9": CZECHOSLOVAKIA}
        ),
        FOOTNOTES,
    )
    assert [(i.predecessor, i.date, i.successors) for i in got.instruments] == [
        ("Czechoslovakia", date(1975, 12, 23), ("CZE", "SVK"))
    ]
    assert got.instruments[0].footnote == "9"  # the first ref met in table order
    assert got.covered("SVK") and got.covered("CZE")


def test_succession_rows_without_a_readable_footnote_are_unreadable() -> None:
    montenegro = noted(member("Montenegro", "MNE", consent="2006-10-23", letter="d"), "11")
    fiji = member("Fiji", "FJI", consent="1973-01-11", letter="d")
    note = 'See note 1 under "Montenegro" in the "Historical Information" section.'
    got = predecessor_instruments(page(montenegro, fiji, notes={"11": note}), FOOTNOTES)
    assert got.instruments == ()
    assert [(u.participant, u.date, u.reason) for u in got.unreadable] == [
        ("MNE", date(2006, 10, 23), "no footnote gives the predecessor's instrument"),
        ("FJI", date(1973, 1, 11), "no footnote on its row"),
    ]


def test_objections_declarations_and_own_acts_of_a_government_are_ignored() -> None:
    text = (
        "On 12 March 1984, the Government of Czechoslovakia made an objection. "
        "The Government of Guyana had initially acceded to the Optional Protocol on 10 May 1993. "
        "Although Democratic Kampuchea had signed both Covenants on 17 October 1980, the "
        "Government of Cambodia deposited an instrument of accession. It will be recalled that "
        "the former Yugoslavia had deposited notifications under article 4(3) on 17 April 1989. "
        "Czechoslovakia had accepted the competence of the Committee on 12 March 1991. "
        "Guyana had ratified the Convention on 1 May 1990."
    )
    guyana = noted(member("Guyana", "GUY", consent="1993-05-10", letter="d"), "2")
    got = predecessor_instruments(page(guyana, notes={"2": text}), FOOTNOTES)
    assert got.instruments == ()
    assert [u.participant for u in got.unreadable] == ["GUY"]


def test_footnotes_disagreeing_on_one_predecessor_give_no_instrument() -> None:
    other = CZECHOSLOVAKIA.replace("23\xa0December 1975", "24 December 1975")
    germany = noted(member("Germany", "DEU", consent="1973-12-17"), "5")
    notes = {"7": CZECHOSLOVAKIA, "8": other, "5": GDR}
    got = predecessor_instruments(
        page(noted(cze(), "7"), noted(svk(), "8"), germany, notes=notes), FOOTNOTES
    )
    assert [i.predecessor for i in got.instruments] == ["German Democratic Republic"]
    reason = "footnotes disagree on Czechoslovakia's instrument"
    assert [(u.participant, u.reason) for u in got.unreadable] == [("CZE", reason), ("SVK", reason)]
    assert not got.covered("CZE")


def test_footnotes_not_attached_to_a_row_are_not_read() -> None:
    got = predecessor_instruments(page(cze(), notes={"7": CZECHOSLOVAKIA}), FOOTNOTES)
    assert got.instruments == ()
    assert [u.reason for u in got.unreadable] == ["no footnote on its row"]


def test_wordings_read_and_refused() -> None:
    assert read_predecessors(
        "Czechoslovakia acceded to the Optional Protocol on 12 March 1991."
    ) == [("Czechoslovakia", "accession", date(1991, 3, 12))]
    assert read_predecessors(
        "The former Yugoslavia had signed and ratified the Convenant on 8 August 1967 and "
        "2 June 1971, respectively."
    ) == [("Yugoslavia", "ratification", date(1971, 6, 2))]
    assert read_predecessors(
        "Czechoslovakia had signed and ratified the Convention accepting Protocols I, II and III, "
        "on 10 April 1981 and 31 August 1982, respectively."
    ) == [("Czechoslovakia", "ratification", date(1982, 8, 31))]
    assert read_predecessors("Democratic Yemen had accepted the amendments on 2 May 1985.") == [
        ("Democratic Yemen", "acceptance", date(1985, 5, 2))
    ]
    same_day = "Czechoslovakia had signed and approved the Convention on 5 May 1980."
    assert read_predecessors(same_day) == [("Czechoslovakia", "approval", date(1980, 5, 5))]
    # Three dates for two acts: no single instrument date to take.
    assert (
        read_predecessors(
            "Yugoslavia had signed and ratified the Convention, and deposited its notification "
            "under article 25 thereof on 1 May 1980, 2 May 1981 and 3 May 1982, respectively."
        )
        == []
    )
