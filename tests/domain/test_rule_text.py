"""extract_rule / extract_rule_spec: the depositary's entry-into-force wording -> a rule spec, or
a refusal that quotes the words it could not read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tracker.domain.number_words import parse_number
from tracker.domain.rule_spec import rule_from_spec
from tracker.domain.rule_text import extract_rule, extract_rule_spec

FOUR = ["ratification", "acceptance", "approval", "accession"]
BOUND = ["ratification", "acceptance", "approval", "accession", "consent_to_be_bound"]


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ordinal", "expected"),
    [
        ("first", True, 1),
        ("fifth", True, 5),
        ("twelfth", True, 12),
        ("twentieth", True, 20),
        ("twenty-second", True, 22),
        ("thirtieth", True, 30),
        ("thirty-fifth", True, 35),
        ("fortieth", True, 40),
        ("sixtieth", True, 60),
        ("ninetieth", True, 90),
        ("one hundredth", True, 100),
        ("one hundred and eightieth", True, 180),
        ("Two Hundred And Twenty-First", True, 221),
        ("65th", True, 65),
        ("180th", True, 180),
        ("22nd", True, 22),
        ("three", False, 3),
        ("twelve", False, 12),
        ("ninety", False, 90),
        ("90", False, 90),
        ("thirty (30)", False, 30),
        ("five (5)", False, 5),
        ("one hundred and eighty", False, 180),
        ("nine hundred and ninety-nine", False, 999),
    ],
)
def test_parse_number_reads_words_and_digits(text: str, ordinal: bool, expected: int) -> None:
    assert parse_number(text, ordinal) == expected


@pytest.mark.parametrize(
    ("text", "ordinal"),
    [
        ("ninety", True),  # a cardinal where an ordinal is printed
        ("ninetieth", False),
        ("65th", False),
        ("90", True),
        ("thirteith", True),  # misspelt: not guessed
        ("thirty (31)", False),  # the figures disagree with the words
        ("twenty twenty", False),
        ("twentieth second", True),
        ("hundred", False),
        ("hundred and five", False),
        ("one hundred hundred", False),
        ("sixty-ten", False),
        ("1000", False),
        ("0", False),
        ("", False),
        ("umpteenth", True),
    ],
)
def test_parse_number_refuses_what_it_cannot_read(text: str, ordinal: bool) -> None:
    assert parse_number(text, ordinal) is None


# --- rules ---------------------------------------------------------------------------------------

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ordinal day, four kinds",
        (
            "1. This Convention shall enter into force on the ninetieth day after the date of "
            "deposit of the fiftieth instrument of ratification, acceptance, approval or "
            "accession."
        ),
        {"threshold": 50, "counts": FOUR, "delay": {"days": 90}},
    ),
    (
        "N days after, instrument has been deposited",
        (
            "This Treaty shall enter into force 90 days after the fiftieth instrument of "
            "ratification, acceptance, approval or accession has been deposited."
        ),
        {"threshold": 50, "counts": FOUR, "delay": {"days": 90}},
    ),
    (
        "cardinal instruments have been deposited",
        (
            "This Convention shall enter into force thirty days after twenty-two instruments of "
            "ratification, acceptance, approval or accession have been deposited with the "
            "Secretary-General of the United Nations."
        ),
        {"threshold": 22, "counts": FOUR, "delay": {"days": 30}},
    ),
    (
        "months, three kinds",
        (
            "This Convention shall enter into force three months after the deposit of the tenth "
            "instrument of ratification, acceptance or accession."
        ),
        {
            "threshold": 10,
            "counts": ["ratification", "acceptance", "accession"],
            "delay": {"months": 3},
        },
    ),
    (
        "ratification only, depositary inserted",
        (
            "The present Agreement shall enter into force thirty days after the date of deposit "
            "with the Secretary-General of the 65th instrument of ratification."
        ),
        {"threshold": 65, "counts": ["ratification"], "delay": {"days": 30}},
    ),
    (
        "ratification or accession",
        (
            "This Convention shall enter into force on the thirtieth day following the date of "
            "deposit of the thirty-fifth instrument of ratification or accession."
        ),
        {"threshold": 35, "counts": ["ratification", "accession"], "delay": {"days": 30}},
    ),
    (
        "first of month after the expiry of N days",
        (
            "This Agreement shall enter into force on the first day of the month following the "
            "expiry of one hundred and eighty days after the date of deposit of the twentieth "
            "instrument of ratification, acceptance, approval or accession."
        ),
        {"threshold": 20, "counts": FOUR, "delay": {"first_of_month_after_days": 180}},
    ),
    (
        "first of month after the Nth day",
        (
            "This Protocol shall enter into force on the first day of the month after the "
            "sixtieth day after the deposit of the 180th instrument of ratification or accession."
        ),
        {
            "threshold": 180,
            "counts": ["ratification", "accession"],
            "delay": {"first_of_month_after_days": 60},
        },
    ),
    (
        "first of month after a period of N months",
        (
            "This Convention shall enter into force on the first day of the month following a "
            "period of twelve months after the date of deposit of the twentieth instrument of "
            "ratification, acceptance, approval or accession."
        ),
        {"threshold": 20, "counts": FOUR, "delay": {"first_of_month_after_months": 12}},
    ),
    (
        "first of month after the expiration of one year",
        (
            "This Convention enters into force on the first day of the month following the "
            "expiration of one year from the date of deposit of the fifth instrument of "
            "ratification, acceptance, approval or accession."
        ),
        {"threshold": 5, "counts": FOUR, "delay": {"first_of_month_after_months": 12}},
    ),
    (
        "first day of the Nth month after the month in which",
        (
            "This Convention shall enter into force on the first day of the sixth month after the"
            " month in which the twentieth instrument of ratification, acceptance, approval or "
            "accession has been deposited."
        ),
        {"threshold": 20, "counts": FOUR, "delay": {"first_of_nth_month_after_month": 6}},
    ),
    (
        "upon the deposit",
        (
            "The present Agreement shall enter into force upon the deposit of the fifth "
            "instrument of ratification, acceptance or approval."
        ),
        {
            "threshold": 5,
            "counts": ["ratification", "acceptance", "approval"],
            "delay": {"on_deposit": True},
        },
    ),
    (
        "formal confirmation and REIO not counted as additional",
        (
            "This Protocol shall enter into force on the ninetieth day following the date of "
            "deposit of the fortieth instrument of ratification, acceptance, approval, formal "
            "confirmation or accession with the Depositary. For the purposes of this Article, any"
            " instrument deposited by a regional economic integration organization shall not be "
            "counted as additional to those deposited by States Members of that organization."
        ),
        {
            "threshold": 40,
            "counts": [*FOUR, "formal_confirmation"],
            "reio": "not_additional",
            "delay": {"days": 90},
        },
    ),
    (
        "REIO not counted",
        (
            "This Convention shall enter into force on the ninetieth day after the date of "
            "deposit of the fortieth instrument of ratification. For the purpose of paragraph 1, "
            "any instrument deposited by a regional economic integration organization shall not "
            "be counted."
        ),
        {"threshold": 40, "counts": ["ratification"], "reio": "not_counted", "delay": {"days": 90}},
    ),
    (
        "REIO counted like a State",
        (
            "This Convention shall enter into force on the ninetieth day after the date of "
            "deposit of the fortieth instrument of ratification. For the purpose of paragraph 1, "
            "an instrument deposited by a regional economic integration organization shall be "
            "counted."
        ),
        {"threshold": 40, "counts": ["ratification"], "reio": "as_state", "delay": {"days": 90}},
    ),
    (
        "consent to be bound",
        (
            "This Convention shall enter into force six months following the date on which 10 "
            "States have expressed their consent to be bound by it."
        ),
        {"threshold": 10, "counts": BOUND, "delay": {"months": 6}},
    ),
    (
        "notified their consent",
        (
            "This Agreement shall enter into force 30 days after the date on which twenty States "
            "have notified the depositary of their consent to be bound by it."
        ),
        {"threshold": 20, "counts": BOUND, "delay": {"days": 30}},
    ),
    (
        "definitive signature of N States",
        (
            "The Convention shall enter into force thirty (30) days after the deposit of "
            "instruments of ratification, acceptance, approval or accession or definitive "
            "signature of thirty (30) States."
        ),
        {"threshold": 30, "counts": [*FOUR, "definitive_signature"], "delay": {"days": 30}},
    ),
    (
        "later paragraph",
        (
            'see article 9 which reads as follows: "1. The present Convention shall come into '
            "force on the thirtieth day following the date of deposit of the fourth instrument of"
            " ratification. 2. For each State ratifying or acceding to the Convention after the "
            "deposit of the fourth instrument of ratification, the Convention shall enter into "
            "force on the ninetieth day after the deposit by such State of its own instrument of "
            'ratification or accession.".'
        ),
        {
            "threshold": 4,
            "counts": ["ratification"],
            "delay": {"days": 30},
            "later": {"days": 90},
            "citation": "article 9",
        },
    ),
    (
        "not before a printed date",
        (
            "This Convention shall enter into force on the ninetieth day after the deposit of the"
            " thirtieth instrument of ratification, but not before 1 January 2019."
        ),
        {
            "threshold": 30,
            "counts": ["ratification"],
            "delay": {"days": 90},
            "not_before": "2019-01-01",
        },
    ),
    (
        "fixed date, else N days after the condition is met",
        (
            "This Amendment shall enter into force on 1 January 2019, provided that at least "
            "twenty instruments of ratification, acceptance or approval of the Amendment have "
            "been deposited. In the event that this condition has not been "
            "fulfilled by that date, the Amendment shall enter into force on the ninetieth day "
            "following the date on which it has been fulfilled."
        ),
        {
            "threshold": 20,
            "counts": ["ratification", "acceptance", "approval"],
            "delay": {"days": 90},
            "fixed_date": "2019-01-01",
        },
    ),
    (
        "curly quotes, NBSP, line break, depositary inserted, citation",
        (
            "23 December 2010, in accordance with article 39(1) which reads as follows: “This "
            "Convention shall enter into force on the thirtieth\u00a0day after the date of deposit "
            "with the Secretary-General of the United Nations of the twentieth instrument of "
            "ratification or accession.”."
        ),
        {
            "threshold": 20,
            "counts": ["ratification", "accession"],
            "delay": {"days": 30},
            "citation": "article 39(1)",
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_extracts_the_rule(text: str, expected: dict[str, Any]) -> None:
    spec = extract_rule_spec(text)
    assert spec is not None
    notes = spec.pop("notes")
    assert notes.startswith("extracted from: ") and "into" in notes and len(notes) <= 320
    # silent on organizations: their treatment is unknown (stated, never assumed)
    assert spec == {"citation": None, "reio": "unknown"} | expected
    assert list(spec)[-1] == "citation"


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_extracted_spec_builds_a_rule(text: str, expected: dict[str, Any]) -> None:
    spec = extract_rule_spec(text)
    assert spec is not None
    rule = rule_from_spec("X", spec, origin="extracted")
    assert rule.origin == "extracted"
    assert rule.threshold == expected["threshold"]
    assert rule.to_spec()["delay"] == expected["delay"]
    assert list(rule.counts) == expected["counts"]


def test_notes_quote_the_matched_sentence() -> None:
    spec = extract_rule_spec(CASES[-1][1])
    assert spec is not None
    assert spec["notes"] == (
        "extracted from: This Convention shall enter into force on the thirtieth day after the "
        "date of deposit with the Secretary-General of the United Nations of the twentieth "
        "instrument of ratification or accession."
    )


def test_long_sentences_are_trimmed_in_the_notes() -> None:
    text = (
        "This Convention shall enter into force on the ninetieth day after the date of deposit of"
        " the fortieth instrument of ratification" + ", acceptance, approval" * 20 + "."
    )
    spec = extract_rule_spec(text)
    assert spec is not None
    assert spec["notes"].endswith("...") and len(spec["notes"]) <= len("extracted from: ") + 300


def test_the_nth_day_after_is_the_deposit_plus_n_days() -> None:
    spec = extract_rule_spec(
        CASES[-1][1]
    )  # CED: 20th instrument on 23 Nov 2010, in force 23 Dec 2010
    assert spec is not None
    rule = rule_from_spec("IV-16", spec, origin="extracted")
    assert rule.delay.apply(date(2010, 11, 23)) == date(2010, 12, 23)


@pytest.mark.parametrize(
    "text",
    [
        "23 March 1976, in accordance with article 49.",
        "2 September 1990, in accordance with article 49(1).",
        "",
        "Lorem ipsum dolor sit amet, forty days of rain.",
        # no count: all the States of an annex (CTBT)
        (
            "This Treaty will enter into force 180 days after the date of deposit of the "
            "instruments of ratification by all States listed in Annex 2 to this Treaty."
        ),
        # emissions share (Paris)
        (
            "The Agreement enters into force on the thirtieth day after the date on which at "
            "least 55 Parties to the Convention accounting in total for at least an estimated 55 "
            "per cent of the total global greenhouse gas emissions have deposited their "
            "instruments of ratification, acceptance, approval or accession."
        ),
        # a further condition on the day it would enter into force
        (
            "This Protocol shall enter into force on the first day of the sixth month following "
            "the deposit of the second instrument of accession, provided that on that date the "
            "Convention is in force."
        ),
        # amendments accepted by a share of the parties
        (
            "An amendment shall enter into force when two thirds of the States Parties have "
            "notified the Secretary-General that they have accepted it."
        ),
        # the threshold or the delay cannot be read
        (
            "This Convention shall enter into force on the ninetieth day after the deposit of the"
            " umpteenth instrument of ratification."
        ),
        (
            "This Convention shall enter into force on the ninetyeth day after the deposit of the"
            " fortieth instrument of ratification."
        ),
        (
            "This Convention shall enter into force thirty (31) days after the deposit of the "
            "fifth instrument of ratification."
        ),
        # fixed date without the fallback sentence
        (
            "This Amendment shall enter into force on 1 January 2019, provided that at least "
            "twenty instruments of ratification have been deposited."
        ),
        # a later paragraph whose delay is misspelt: not guessed
        (
            "1. The present Convention shall enter into force on the thirtieth day following the "
            "date of deposit of the fifteenth instrument of ratification or accession. 2. For "
            "each State ratifying or acceding to the Convention after the deposit of the "
            "fifteenth instrument of ratification or accession, the Convention shall enter into "
            "force on the thirteith day after deposit by such State of its instrument of "
            "ratification or accession."
        ),
    ],
)
def test_returns_none_without_a_readable_rule(text: str) -> None:
    assert extract_rule_spec(text) is None


# --- extract_rule: every clause read, or a refusal with its words -------------------------------

MAIN = (
    "This Protocol shall enter into force on the ninetieth day after the date of deposit of the "
    "fortieth instrument of ratification, acceptance, approval or accession"
)

REFUSALS = [
    # text, reason, words that must be quoted
    (
        MAIN + ", except that it shall not enter into force before the entry into force of the "
        "Convention.",
        "depends on another treaty",
        "except that it shall not enter into force before the entry into force of the convention",
    ),
    (
        MAIN + " by States members of the Economic Commission for Europe.",
        "who may deposit",
        "by states members of the economic commission for europe",
    ),
    (
        MAIN + " by States or regional economic integration organizations that are Parties to "
        "the Protocol.",
        "who may deposit",
        "by states or regional economic integration organizations that are parties to the protocol",
    ),
    (
        MAIN + " and of the tenth instrument of an organization.",
        "unread words in the rule sentence",
        "and of the tenth instrument of an organization",
    ),
    (
        (
            "Ten years after its adoption, this Protocol shall enter into force on the ninetieth day "
            "after the date of deposit of the fortieth instrument of ratification."
        ),
        "unread words in the rule sentence",
        "Ten years after its adoption, this Protocol shall",
    ),
    (
        MAIN + ". 2. For each State ratifying it after the fortieth deposit, this Protocol shall "
        "enter into force on the thirtieth day after the deposit of its instrument, but not "
        "before 1 January 2030.",
        "later paragraph not read",
        "but not before 1 January 2030",
    ),
    (
        MAIN + ". 2. For each State ratifying it after the fortieth deposit, this Protocol shall "
        "enter into force in respect of that State upon the expiration of the period of twelve "
        "months after the deposit of its instrument.",
        "later paragraph not read",
        "the expiration of the period of twelve months",
    ),
    (
        MAIN + ". 2. For each State ratifying it after the fortieth deposit, this Protocol shall "
        "enter into force on the thirtieth day after the deposit of its instrument. 3. For each "
        "organization acceding later, this Protocol shall enter into force on the sixtieth day "
        "after the deposit of its instrument.",
        "later paragraphs disagree",
        "sixtieth day",
    ),
    (
        MAIN + ". The entry into force shall be deferred if fewer than five regions are "
        "represented.",
        "unread sentence about entry into force",
        "The entry into force shall be deferred if fewer than five regions are represented",
    ),
    (
        MAIN + ". For the purposes of paragraph 1, an instrument deposited by an organization "
        "shall be counted as two.",
        "unread sentence about entry into force",
        "shall be counted as two",
    ),
    (
        MAIN + ", provided that on that date the Convention is in force.",
        "further condition",
        "provided that on that date the Convention is in force",
    ),
    ("23 March 1976, in accordance with article 9.", "no rule printed", "23 March 1976"),
    ("", "no rule printed", "(no text)"),
    (
        (
            "This amendment shall enter into force in accordance with Articles 20 and 21 of the "
            "Kyoto Protocol."
        ),
        "rule wording not modelled",
        "in accordance with Articles 20 and 21 of the Kyoto Protocol",
    ),
    (
        MAIN.replace("fortieth", "umpteenth") + ".",
        "rule wording not modelled",  # no threshold pattern reads 'umpteenth' as a number
        "umpteenth",
    ),
    (
        MAIN.replace("ninetieth", "ninetyeth") + ".",
        "rule wording not modelled",
        "ninetyeth",
    ),
    (
        (
            "This Convention shall enter into force thirty (31) days after the deposit of the fifth "
            "instrument of ratification."
        ),
        "unreadable number",
        "thirty (31) days",
    ),
]


@pytest.mark.parametrize(("text", "reason", "words"), REFUSALS, ids=[r[1] for r in REFUSALS])
def test_refuses_with_the_words_it_could_not_read(text: str, reason: str, words: str) -> None:
    found = extract_rule(text)
    assert found.spec is None and extract_rule_spec(text) is None
    assert found.reason == reason
    assert found.refused is not None and words in found.refused
    refusal = found.refusal()
    assert refusal is not None and refusal.startswith(
        f"the printed text could not be read ({reason})"
    )
    assert words in refusal


def test_a_long_refusal_is_trimmed_in_the_warning() -> None:
    found = extract_rule("The entry into force shall be deferred " + "and deferred " * 40)
    assert found.refused is not None and len(found.refused) > 300
    refusal = found.refusal()
    assert refusal is not None and refusal.endswith("...'") and len(refusal) < 360


def test_by_states_is_read_as_only_states() -> None:
    found = extract_rule(
        MAIN + " by States. For each State acceding after that, it shall enter into force on the "
        "thirtieth day after the deposit of its instrument."
    )
    assert found.spec is not None
    assert found.spec["only"] == "states"
    assert found.spec["reio"] == "not_counted"  # only States count: an organization's does not
    assert found.spec["later"] == {"days": 30}
    assert [c.role for c in found.clauses] == ["rule", "qualifier", "later"]
    assert found.clauses[1].words == "by states"
    rule = rule_from_spec("X", found.spec, origin="extracted")
    assert "Only instruments of States count." in rule.words()


def test_by_states_followed_by_more_is_refused() -> None:
    found = extract_rule(MAIN + " by States Parties to the Convention.")
    assert found.spec is None and found.reason == "who may deposit"
    assert found.refused == "by states parties to the convention"


def test_silent_on_organizations_is_unknown_and_so_said() -> None:
    spec = extract_rule_spec(MAIN + ".")
    assert spec is not None and spec["reio"] == "unknown" and "later" not in spec
    rule = rule_from_spec("X", spec, origin="extracted")
    words = rule.words()
    assert "regional economic integration organization counts is not known" in words
    assert "For a participant joining later: not known" in words


def test_clauses_account_for_every_sentence() -> None:
    text = (
        'see article 9 which reads as follows: "1. ' + MAIN + ". 2. For each State ratifying "
        "after the fortieth deposit, the Protocol shall enter into force on the thirtieth day "
        "after the date of deposit by such State of its instrument, or on the date this Protocol "
        "enters into force pursuant to paragraph 1, whichever is later. 3. For the purpose of "
        "paragraph 1, any instrument deposited by a regional economic integration organization "
        "shall not be counted as additional to those deposited by its member States. 4. This "
        'Protocol shall be open for signature at Geneva."'
    )
    found = extract_rule(text)
    assert found.spec is not None and found.refused is None and found.reason is None
    assert [c.role for c in found.clauses] == ["citation", "rule", "later", "reio", "other"]
    assert found.spec["later"] == {"days": 30} and found.spec["reio"] == "not_additional"
    assert found.clauses[-1].to_dict() == {
        "role": "other",
        "words": 'This Protocol shall be open for signature at Geneva."',
    }


def test_a_later_paragraph_with_a_further_condition_is_refused() -> None:
    text = (
        MAIN + ". 2. For each State acceding later, the Protocol shall enter into force on the "
        "thirtieth day after the deposit of its instrument, subject to the approval of the Council."
    )
    found = extract_rule(text)
    assert found.spec is None and found.reason == "later paragraph not read"
    assert "subject to the approval of the Council" in (found.refused or "")


def test_not_before_a_date_is_a_read_qualifier() -> None:
    found = extract_rule(MAIN + ", but not before 1 January 2030.")
    assert found.spec is not None and found.spec["not_before"] == "2030-01-01"
    assert [c.role for c in found.clauses] == ["rule", "qualifier"]


def test_a_refusal_keeps_the_clauses_it_did_read() -> None:
    found = extract_rule(
        MAIN + ". The entry into force shall be deferred if fewer than five regions are "
        "represented. 3. This Protocol shall be open for signature."
    )
    assert found.spec is None and found.reason == "unread sentence about entry into force"
    assert [c.role for c in found.clauses] == ["rule", "other"]
    assert found.clauses[0].words.startswith("This Protocol shall enter into force")


def test_the_expiration_of_the_period_of_twelve_months() -> None:
    text = (
        "This Convention shall enter into force on the first day of the month following the "
        "expiration of the period of twelve months after the date of deposit of the tenth "
        "instrument of ratification."
    )
    assert extract_rule_spec(text) is not None
    assert extract_rule_spec(text)["delay"] == {"first_of_month_after_months": 12}
    # the same words without the first of the month: never read as "twelve months after"
    odd = text.replace("on the first day of the month following the expiration", "at the end")
    found = extract_rule(odd)
    assert found.spec is None and found.reason == "unread words in the rule sentence"
    assert found.refused == "at the end of the period of"


def test_a_later_paragraph_must_count_from_the_participants_own_deposit() -> None:
    text = (
        MAIN + ". 2. For each State, the Protocol shall enter into force on the thirtieth day "
        "after the deposit of the sixtieth instrument of ratification."
    )
    found = extract_rule(text)
    assert found.spec is None and found.reason == "later paragraph not read"
    assert "sixtieth instrument" in (found.refused or "")


def test_an_introduction_with_an_exception_is_not_set_aside() -> None:
    text = (
        "1 July 2003, in accordance with article 9, except for article 4, which reads as follows: "
        '"' + MAIN + '."'
    )
    found = extract_rule(text)
    assert found.spec is None and found.reason == "unread sentence about entry into force"
    assert "except for article 4" in (found.refused or "")
    plain = extract_rule(text.replace(", except for article 4", ""))
    assert plain.spec is not None and [c.role for c in plain.clauses] == ["citation", "rule"]


def test_a_later_paragraph_with_an_exception_before_its_verb_is_refused() -> None:
    text = (
        MAIN + ". 2. For each State acceding later, unless it declares otherwise, the Protocol "
        "shall enter into force on the thirtieth day after the deposit of its instrument."
    )
    found = extract_rule(text)
    assert found.spec is None and found.reason == "later paragraph not read"
    assert "unless it declares otherwise" in (found.refused or "")
