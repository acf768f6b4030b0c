"""Entry-into-force rules: delay arithmetic, spec validation, plain words, spec round trip."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tracker.domain.delays import DELAY_KINDS, Delay, RuleError, add_months
from tracker.domain.rule_spec import rule_from_spec
from tracker.domain.rules import Condition, Group, Reio, Rule

D = date.fromisoformat


def spec(**over: Any) -> dict[str, Any]:
    """A valid minimal spec (40 instruments, 90 days), with keys replaced or added by `over`."""
    base: dict[str, Any] = {"threshold": 40, "delay": {"days": 90}}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


# ---- add_months ---------------------------------------------------------------------------------

ADD_MONTHS = [
    ("2023-08-31", 3, "2023-11-30", "31-aug-plus-3-is-30-nov"),
    ("2023-01-31", 1, "2023-02-28", "31-jan-plus-1-common-year"),
    ("2024-01-31", 1, "2024-02-29", "31-jan-plus-1-leap-year"),
    ("2024-02-29", 12, "2025-02-28", "leap-day-plus-12"),
    ("2024-02-29", 48, "2028-02-29", "leap-day-plus-48-keeps-leap-day"),
    ("2023-11-30", 3, "2024-02-29", "30-nov-plus-3-into-leap-feb"),
    ("2022-11-30", 3, "2023-02-28", "30-nov-plus-3-into-common-feb"),
    ("2023-10-31", 3, "2024-01-31", "year-boundary-keeps-31"),
    ("2023-12-15", 1, "2024-01-15", "december-to-january"),
    ("2023-03-31", 1, "2023-04-30", "31-mar-plus-1"),
    ("2023-05-10", 0, "2023-05-10", "zero-months"),
]


@pytest.mark.parametrize(
    ("start", "months", "expected", "_id"), ADD_MONTHS, ids=[c[-1] for c in ADD_MONTHS]
)
def test_add_months(start: str, months: int, expected: str, _id: str) -> None:
    assert add_months(D(start), months) == D(expected)


# ---- Delay.apply, every kind --------------------------------------------------------------------

DELAYS = [
    # kind, n, deposit, entry into force, id
    ("on_deposit", 0, "2023-05-10", "2023-05-10", "on-deposit"),
    ("days", 30, "2024-02-01", "2024-03-02", "days-across-leap-day"),
    ("days", 30, "2023-02-01", "2023-03-03", "days-common-february"),
    ("days", 90, "2023-12-01", "2024-02-29", "days-90-into-leap-day"),
    ("days", 1, "2023-12-31", "2024-01-01", "days-1-year-end"),
    ("months", 3, "2023-08-31", "2023-11-30", "months-31-aug"),
    ("months", 1, "2023-01-31", "2023-02-28", "months-31-jan-common"),
    ("months", 1, "2024-01-31", "2024-02-29", "months-31-jan-leap"),
    ("months", 12, "2024-02-29", "2025-02-28", "months-leap-day-plus-12"),
    ("months", 3, "2023-11-30", "2024-02-29", "months-30-nov"),
    ("months", 3, "1976-01-03", "1976-04-03", "months-iccpr"),
    # Rome Statute art. 126: first day of the month after the 60th day following the deposit.
    ("first_of_month_after_days", 60, "2002-04-11", "2002-07-01", "rome-statute"),
    (
        "first_of_month_after_days",
        60,
        "2002-04-02",
        "2002-07-01",
        "plus-n-lands-on-1-jun-next-month",
    ),
    ("first_of_month_after_days", 60, "2002-04-01", "2002-06-01", "plus-n-lands-on-31-may"),
    ("first_of_month_after_days", 30, "2023-12-15", "2024-02-01", "days-across-year-end"),
    # CMW art. 87: first day of the month following three months after the deposit.
    ("first_of_month_after_months", 3, "2003-03-14", "2003-07-01", "cmw"),
    ("first_of_month_after_months", 3, "2003-03-01", "2003-07-01", "deposit-on-1st"),
    ("first_of_month_after_months", 3, "2023-11-30", "2024-03-01", "from-30-nov-via-29-feb"),
    ("first_of_month_after_months", 2, "2023-10-31", "2024-01-01", "across-year-end"),
    # Ottawa art. 17 / CCM art. 17: first day of the 6th month after the month of the deposit.
    ("first_of_nth_month_after_month", 6, "1998-09-16", "1999-03-01", "ottawa"),
    ("first_of_nth_month_after_month", 6, "1998-12-31", "1999-06-01", "31-dec-to-1-june"),
    ("first_of_nth_month_after_month", 6, "2010-02-16", "2010-08-01", "ccm"),
    ("first_of_nth_month_after_month", 6, "2010-02-01", "2010-08-01", "deposit-on-1st"),
    ("first_of_nth_month_after_month", 1, "2023-01-31", "2023-02-01", "first-month-after"),
]


@pytest.mark.parametrize(
    ("kind", "n", "deposit", "expected", "_id"), DELAYS, ids=[c[-1] for c in DELAYS]
)
def test_delay_apply(kind: str, n: int, deposit: str, expected: str, _id: str) -> None:
    assert Delay(kind, n).apply(D(deposit)) == D(expected)


def test_delay_table_covers_every_kind() -> None:
    assert {c[0] for c in DELAYS} == set(DELAY_KINDS)


DELAY_SPECS = [
    ({"on_deposit": True}, Delay("on_deposit"), "on-deposit"),
    ({"days": 90}, Delay("days", 90), "days"),
    ({"months": 3}, Delay("months", 3), "months"),
    ({"first_of_month_after_days": 60}, Delay("first_of_month_after_days", 60), "fomad"),
    ({"first_of_month_after_months": 3}, Delay("first_of_month_after_months", 3), "fomam"),
    ({"first_of_nth_month_after_month": 6}, Delay("first_of_nth_month_after_month", 6), "fonmam"),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[:2] for c in DELAY_SPECS], ids=[c[-1] for c in DELAY_SPECS]
)
def test_delay_from_spec_and_back(raw: dict[str, Any], expected: Delay) -> None:
    assert Delay.from_spec(raw) == expected
    assert Delay.from_spec(expected.to_spec()) == expected


# ---- spec validation ----------------------------------------------------------------------------

BAD_SPECS = [
    (spec(weeks=3), "unknown rule key(s) weeks", "unknown-key"),
    (spec(counts=["ratification", "signature"]), "unknown: signature", "unknown-kind"),
    (spec(counts=[]), "counts must name kinds", "empty-counts"),
    (spec(delay={"weeks": 3}), "unknown delay 'weeks'", "unknown-delay-kind"),
    (spec(delay={"days": 0}), "needs a positive number", "zero-days"),
    (spec(delay={"days": "90"}), "needs a whole number", "string-days"),
    (spec(delay={"days": True}), "needs a whole number", "bool-days"),
    (spec(delay={"days": 90, "months": 3}), "a delay is one key", "two-delay-keys"),
    (spec(delay=90), "a delay is one key", "delay-not-a-table"),
    (spec(delay=None), "needs a delay", "no-delay"),
    (spec(later={"fortnights": 2}), "unknown delay 'fortnights'", "bad-later"),
    (spec(threshold=0), "threshold must be positive, not 0", "threshold-0"),
    (spec(threshold=-3), "threshold must be positive", "threshold-negative"),
    (spec(threshold="40"), "threshold must be a whole number", "threshold-string"),
    (spec(threshold=None), "needs a threshold or an all_of list", "no-threshold-no-all-of"),
    (spec(reio="federal"), "reio is one of not_additional, not_counted, as_state", "bad-reio"),
    (spec(not_before="13 January 1995"), "not_before must be a date", "bad-not-before"),
    (spec(fixed_date="2019-13-01"), "fixed_date must be a date", "bad-fixed-date"),
    (
        spec(at_least=[{"k": 4, "label": "members", "participants": ["ALB", "AND", "ARM"]}]),
        "at_least 'members' needs 0 < k <= members",
        "k-greater-than-members",
    ),
    (
        spec(at_least=[{"k": 0, "label": "members", "participants": ["ALB"]}]),
        "needs 0 < k <= members",
        "k-zero",
    ),
    (
        spec(at_least=[{"label": "members", "participants": ["ALB"]}]),
        "needs a whole number k",
        "k-missing",
    ),
    (
        spec(all_of={"label": "a2", "participants": ["DZA", "XX1"]}),
        "ISO3 codes; not XX1",
        "bad-iso3-digit",
    ),
    (
        spec(all_of={"label": "a2", "participants": ["DZA", "FRAN"]}),
        "ISO3 codes; not FRAN",
        "bad-iso3-long",
    ),
    (
        spec(all_of={"label": "annex 2", "participants": []}),
        "needs a label and a list",
        "empty-group",
    ),
    (
        spec(conditions=[{"key": "emissions"}]),
        "condition needs a key and a description",
        "condition-no-desc",
    ),
]


@pytest.mark.parametrize(
    ("raw", "message"), [c[:2] for c in BAD_SPECS], ids=[c[-1] for c in BAD_SPECS]
)
def test_bad_spec_raises_rule_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as info:
        rule_from_spec("T-1", raw)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [spec(threshold=0), spec(weeks=1), spec(reio="x"), spec(counts=["vote"])],
    ids=["threshold", "key", "reio", "counts"],
)
def test_rule_error_names_the_treaty(raw: dict[str, Any]) -> None:
    with pytest.raises(RuleError, match=r"^T-1: "):
        rule_from_spec("T-1", raw)


def test_rule_error_is_a_value_error() -> None:
    assert issubclass(RuleError, ValueError)


def test_bad_origin_raises() -> None:
    with pytest.raises(RuleError, match="origin is catalogue or extracted"):
        rule_from_spec("T-1", spec(), origin="guessed")


def test_spec_defaults() -> None:
    rule = rule_from_spec("T-1", spec())
    assert rule.counts == ("ratification", "acceptance", "approval", "accession")
    assert rule.reio is Reio.AS_STATE
    # never copied from the main delay: unknown unless stated
    assert rule.later is None and rule.later_delay() is None
    assert rule.origin == "catalogue"


def test_group_members_are_upper_cased() -> None:
    rule = rule_from_spec("T-1", spec(all_of={"label": "annex 2", "participants": ["dza", "Fra"]}))
    assert rule.all_of == Group("annex 2", ("DZA", "FRA"))
    assert rule.all_of.needed == 2


# ---- words --------------------------------------------------------------------------------------

CYBERCRIME = spec(
    counts=["ratification", "acceptance", "approval", "accession"],
    reio="not_additional",
    later={"days": 30},
    citation="art. 65(1) and (2)",
)

WORDS = [
    (
        CYBERCRIME,
        [
            "40 instruments of ratification, acceptance, approval or accession",
            "90 days after the day the last of these is met",
            "not counted as additional to those of its member States",
            "30 days after its own deposit",
            "Source: art. 65(1) and (2) (catalogue).",
        ],
        "cybercrime",
    ),
    (
        spec(counts=["ratification"], reio="not_counted", delay={"on_deposit": True}),
        [
            "Needs 40 instruments of ratification.",
            "Enters into force on the day the last",
            "organization is not counted.",
        ],
        "on-deposit-not-counted",
    ),
    (
        spec(reio="as_state", delay={"first_of_month_after_days": 60}),
        ["first day of the month after the 60th day after", "counts like a State's"],
        "rome",
    ),
    (
        spec(delay={"first_of_month_after_months": 3}),
        ["first day of the month following 3 months after"],
        "cmw",
    ),
    (
        spec(delay={"first_of_nth_month_after_month": 6}),
        ["first day of the 6th month after the month of"],
        "ottawa",
    ),
    (spec(delay={"months": 3}), ["3 months after"], "months"),
    (
        spec(threshold=65, delay={"days": 180}, not_before="1995-01-13"),
        ["65 instruments", "180 days after", "Not before 1995-01-13."],
        "cwc-not-before",
    ),
    (
        spec(threshold=20, fixed_date="2019-01-01"),
        ["on 2019-01-01 if this is met by then, otherwise 90 days after"],
        "kigali-fixed-date",
    ),
    (
        spec(
            threshold=None,
            all_of={"label": "the States of annex 2", "participants": ["DZA", "FRA"]},
        ),
        [
            "an instrument of ratification, acceptance, approval or accession from each of the States of annex 2"
        ],
        "ctbt-all-of",
    ),
    (
        spec(
            threshold=5,
            at_least=[{"k": 3, "label": "member States", "participants": ["ALB", "AND", "ARM"]}],
        ),
        ["5 instruments", "at least 3 of them from member States"],
        "at-least",
    ),
    (
        spec(
            threshold=55,
            conditions=[{"key": "emissions", "description": "55% of global emissions"}],
        ),
        ["55% of global emissions (confirmed by an operator)"],
        "condition",
    ),
]


@pytest.mark.parametrize(("raw", "phrases"), [c[:2] for c in WORDS], ids=[c[-1] for c in WORDS])
def test_words(raw: dict[str, Any], phrases: list[str]) -> None:
    text = rule_from_spec("T-1", raw).words()
    for phrase in phrases:
        assert phrase in text


def test_words_without_citation_has_no_source() -> None:
    assert "Source:" not in rule_from_spec("T-1", spec()).words()


def test_words_say_extracted_origin() -> None:
    rule = rule_from_spec("T-1", spec(citation="art. 9"), origin="extracted")
    assert "Source: art. 9 (extracted)." in rule.words()


# ---- to_spec round trip -------------------------------------------------------------------------

ROUND_TRIP = [
    (CYBERCRIME, "cybercrime"),
    (spec(delay={"on_deposit": True}, counts=["ratification"], reio="not_counted"), "on-deposit"),
    (spec(threshold=65, delay={"days": 180}, not_before=date(1995, 1, 13), title="CWC"), "cwc"),
    (spec(threshold=20, fixed_date="2019-01-01", notes="Kigali"), "kigali"),
    (spec(threshold=None, all_of={"label": "annex 2", "participants": ["DZA", "FRA"]}), "all-of"),
    (
        spec(
            threshold=44,
            all_of={"label": "annex 2", "participants": ["DZA"]},
            at_least=[
                {"k": 2, "label": "g", "participants": ["ALB", "AND", "ARM"]},
                {"k": 1, "label": "h", "participants": ["BEL"]},
            ],
        ),
        "groups",
    ),
    (
        spec(
            conditions=[
                {"key": "emissions", "description": "55%"},
                {"key": "tonnage", "description": "50%"},
            ]
        ),
        "conditions",
    ),
    (
        spec(delay={"first_of_nth_month_after_month": 6}, later={"first_of_month_after_days": 30}),
        "later",
    ),
]


@pytest.mark.parametrize("raw", [c[0] for c in ROUND_TRIP], ids=[c[-1] for c in ROUND_TRIP])
@pytest.mark.parametrize("origin", ["catalogue", "extracted"])
def test_to_spec_round_trips(raw: dict[str, Any], origin: str) -> None:
    rule = rule_from_spec("T-1", raw, origin=origin)
    again = rule_from_spec("T-1", rule.to_spec(), origin=origin)
    assert again == rule
    assert again.to_spec() == rule.to_spec()


def test_to_spec_round_trips_a_rule_built_directly() -> None:
    rule = Rule(
        treaty_id="T-2",
        threshold=3,
        counts=("ratification", "definitive_signature"),
        reio=Reio.NOT_ADDITIONAL,
        delay=Delay("months", 1),
        later=Delay("on_deposit"),
        conditions=(Condition("c", "described"),),
        citation="art. 1",
    )
    assert rule_from_spec("T-2", rule.to_spec()) == rule


# ---- unknown later delay and REIO treatment; after_treaty, only, share_of -----------------------

SHARE = {"treaty": "XXVII-7", "numerator": 3, "denominator": 4}

NEW_BAD_SPECS = [
    (spec(after_treaty=""), "after_treaty names a treaty by its id", "after-empty"),
    (spec(after_treaty=4), "after_treaty names a treaty by its id", "after-number"),
    (spec(after_treaty="T-1"), "after_treaty cannot name the treaty itself", "after-itself"),
    (spec(only="organizations"), 'only is "states" or a group', "only-word"),
    (spec(only={"label": "ECE", "participants": []}), "needs a label and a list", "only-empty"),
    (spec(only={"label": "ECE", "participants": ["FRAN"]}), "ISO3 codes; not FRAN", "only-iso"),
    (spec(threshold=None, share_of={"treaty": "X"}), "share_of is {treaty", "share-keys"),
    (
        spec(threshold=None, share_of={**SHARE, "numerator": 5}),
        "0 < numerator <= denominator",
        "share-above-one",
    ),
    (
        spec(threshold=None, share_of={**SHARE, "denominator": 0}),
        "0 < numerator <= denominator",
        "share-zero",
    ),
    (
        spec(threshold=None, share_of={**SHARE, "numerator": True}),
        "whole numbers",
        "share-bool",
    ),
    (spec(share_of=SHARE), "threshold and share_of exclude each other", "share-and-threshold"),
]


@pytest.mark.parametrize(
    ("raw", "message"), [c[:2] for c in NEW_BAD_SPECS], ids=[c[-1] for c in NEW_BAD_SPECS]
)
def test_bad_new_keys_raise_rule_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as info:
        rule_from_spec("T-1", raw)
    assert message in str(info.value) and str(info.value).startswith("T-1: ")


def test_reio_unknown_is_a_value_and_said() -> None:
    rule = rule_from_spec("T-1", spec(reio="unknown"))
    assert rule.reio is Reio.UNKNOWN
    assert "counts is not known (the rule does not say)" in rule.words()
    assert rule.to_spec()["reio"] == "unknown"


def test_later_is_never_the_main_delay() -> None:
    rule = rule_from_spec("T-1", spec(delay={"days": 90}))
    assert rule.later_delay() is None
    assert "For a participant joining later: not known (the rule does not say)." in rule.words()
    assert "later" not in rule.to_spec()
    stated = rule_from_spec("T-1", spec(later={"days": 30}))
    assert stated.later_delay() == Delay("days", 30)
    assert "For a participant joining later: 30 days after its own deposit." in stated.words()


def test_share_needed_rounds_up() -> None:
    rule = rule_from_spec("T-1", spec(threshold=None, share_of=SHARE))
    share = rule.share_of
    assert share is not None and rule.threshold is None
    assert [share.needed(n) for n in (192, 193, 1, 0)] == [144, 145, 1, 0]
    assert (
        "instruments of ratification, acceptance, approval or accession from 3/4 of the "
        "parties to XXVII-7" in rule.words()
    )


def test_words_of_after_treaty_and_only() -> None:
    after = rule_from_spec("T-1", spec(after_treaty="IV-4", not_before="1976-03-23")).words()
    assert "Not before the entry into force of IV-4 (failing that date: 1976-03-23)." in after
    assert "Not before 1976-03-23." not in after
    assert "Only instruments of States count." in rule_from_spec("T-1", spec(only="states")).words()
    group = spec(only={"label": "the members of the ECE", "participants": ["aut", "BEL"]})
    rule = rule_from_spec("T-1", group)
    assert rule.only == Group("the members of the ECE", ("AUT", "BEL"))
    assert "Only instruments of the members of the ECE count." in rule.words()


@pytest.mark.parametrize(
    "raw",
    [
        spec(after_treaty="IV-4", not_before="1976-03-23"),
        spec(only="states", reio="unknown"),
        spec(only={"label": "ECE", "participants": ["AUT", "BEL"]}),
        spec(threshold=None, share_of=SHARE),
    ],
    ids=["after-treaty", "only-states", "only-group", "share-of"],
)
def test_new_keys_round_trip(raw: dict[str, Any]) -> None:
    rule = rule_from_spec("T-1", raw)
    assert rule_from_spec("T-1", rule.to_spec()) == rule
    for key in ("after_treaty", "only", "share_of"):
        assert (key in rule.to_spec()) == (key in raw)
