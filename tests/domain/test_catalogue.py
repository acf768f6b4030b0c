"""The curated catalogue of entry-into-force rules (tracker/catalogue/*.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tracker.catalogue import (
    CATALOGUE_DIR,
    NO_RULE,
    Catalogue,
    _load,
    catalogue,
    rule_and_warning,
    rule_for,
)
from tracker.domain.delays import Delay, RuleError
from tracker.domain.models import TreatyStatus
from tracker.domain.rule_spec import rule_from_spec
from tracker.domain.rules import Reio, Rule

UNTC = CATALOGUE_DIR / "untc.toml"

VALID = """
version = 3
updated = 2026-01-02

[defaults]
counts = ["ratification", "acceptance", "approval", "accession"]
reio = "not_additional"

[treaty."T-1"]
threshold = 20
delay = { days = 30 }
citation = "art. 1"

[treaty."T-2"]
threshold = 5
counts = ["ratification"]
reio = "as_state"
delay = { months = 3 }
citation = "art. 2"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(scope="module")
def untc() -> Catalogue:
    return catalogue("untc")


def test_catalogue_loads(untc: Catalogue) -> None:
    assert untc.slug == "untc"
    assert isinstance(untc.version, int) and not isinstance(untc.version, bool)
    assert untc.version >= 1
    assert isinstance(untc.updated, date)
    assert len(untc.rules) >= 30


def test_catalogue_is_cached(untc: Catalogue) -> None:
    assert catalogue("untc") is untc


def test_every_treaty_table_is_a_rule(untc: Catalogue) -> None:
    raw = tomllib.loads(UNTC.read_text("utf-8"))
    assert set(untc.rules) == set(raw["treaty"])


def test_every_rule_is_curated_and_cited(untc: Catalogue) -> None:
    for treaty_id, rule in untc.rules.items():
        assert rule.treaty_id == treaty_id
        assert rule.origin == "catalogue"
        assert rule.citation and rule.citation.strip(), treaty_id
        assert rule.title, treaty_id


def test_every_rule_reads_and_round_trips(untc: Catalogue) -> None:
    for treaty_id, rule in untc.rules.items():
        assert rule.words().startswith("Needs "), treaty_id
        assert rule_from_spec(treaty_id, rule.to_spec()) == rule, treaty_id


def test_cybercrime_convention(untc: Catalogue) -> None:
    rule = untc.rules["XVIII-16"]
    assert rule.threshold == 40
    assert set(rule.counts) == {"ratification", "acceptance", "approval", "accession"}
    assert rule.reio is Reio.NOT_ADDITIONAL
    assert rule.delay == Delay("days", 90)
    assert rule.later == Delay("days", 30)
    assert rule.citation == "art. 65(1) and (2)"
    assert rule.all_of is None and rule.at_least == () and rule.conditions == ()


@pytest.mark.parametrize(
    ("treaty_id", "check"),
    [
        ("XXVI-4", lambda r: r.threshold is None and len(r.all_of.participants) == 44),
        ("XXVI-3", lambda r: r.not_before == date(1995, 1, 13) and r.threshold == 65),
        ("XXVI-8", lambda r: "accession" not in r.counts),
        ("XXVII-2-f", lambda r: r.fixed_date == date(2019, 1, 1)),
        ("XXVII-7-d", lambda r: [c.key for c in r.conditions] == ["emissions_55"]),
        ("XXVI-5", lambda r: r.delay == Delay("first_of_nth_month_after_month", 6)),
    ],
    ids=[
        "ctbt-all-of",
        "cwc-not-before",
        "att-no-accession",
        "kigali-fixed-date",
        "paris-condition",
        "ottawa",
    ],
)
def test_nested_tables_are_read(
    untc: Catalogue, treaty_id: str, check: Callable[[Rule], bool]
) -> None:
    assert check(untc.rules[treaty_id])


def test_unknown_slug_is_an_empty_catalogue() -> None:
    empty = catalogue("no-such-source")
    assert (empty.version, empty.updated, empty.rules) == (0, None, {})


def test_rule_for_prefers_the_catalogue(untc: Catalogue) -> None:
    assert rule_for("untc", "XVIII-16", None) is untc.rules["XVIII-16"]
    assert rule_for("untc", "NOT-A-TREATY", None) is None


# ---- _load on files written here ----------------------------------------------------------------


def test_load_applies_defaults(tmp_path: Path) -> None:
    loaded = _load(write(tmp_path, VALID), "test")
    assert (loaded.slug, loaded.version, loaded.updated) == ("test", 3, date(2026, 1, 2))
    assert loaded.rules["T-1"].reio is Reio.NOT_ADDITIONAL
    assert loaded.rules["T-1"].counts == ("ratification", "acceptance", "approval", "accession")
    assert loaded.rules["T-2"].reio is Reio.AS_STATE
    assert loaded.rules["T-2"].counts == ("ratification",)


BROKEN = [
    ('version = 1\n[treaty."T-1"\nthreshold = 3\n', "unclosed-table"),
    ('version = 1\n[treaty."T-1"]\nthreshold = = 3\n', "bad-value"),
    (
        'version = 1\n[treaty."T-1"]\nthreshold = 3\n[treaty."T-1"]\nthreshold = 4\n',
        "duplicate-table",
    ),
    ('[treaty."T-1"]\nthreshold = 3\ndelay = { days = 1 }\n', "no-version"),
    ('version = "1"\n', "version-not-int"),
]


@pytest.mark.parametrize("text", [c[0] for c in BROKEN], ids=[c[-1] for c in BROKEN])
def test_broken_toml_names_the_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as info:
        _load(path, "test")
    assert str(path) in str(info.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(RuleError, match=r"absent.toml"):
        _load(path, "test")


def test_invalid_rule_names_the_treaty(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("threshold = 5", "threshold = 0"))
    with pytest.raises(RuleError, match="T-2: threshold must be positive"):
        _load(path, "test")


def test_invalid_rule_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("threshold = 5", "threshold = 0"))
    with pytest.raises(RuleError, match=r"broken.toml"):
        _load(path, "test")


# ---- later delays, dependencies, refusals (version 4) -------------------------------------------

# The later delay each treaty's own paragraph gives (none is copied from the main delay).
LATER = {
    "IV-2": Delay("days", 30), "IV-3": Delay("months", 3), "IV-3-a": Delay("months", 3),
    "IV-4": Delay("months", 3), "IV-5": Delay("months", 3), "IV-8": Delay("days", 30),
    "IV-8-b": Delay("months", 3), "IV-9": Delay("days", 30), "IV-9-b": Delay("days", 30),
    "IV-11": Delay("days", 30), "IV-11-b": Delay("months", 1), "IV-11-c": Delay("months", 1),
    "IV-11-d": Delay("months", 3), "IV-12": Delay("months", 3),
    "IV-13": Delay("first_of_month_after_months", 3), "IV-15": Delay("days", 30),
    "IV-15-a": Delay("days", 30), "IV-16": Delay("days", 30),
    "XVIII-10": Delay("first_of_month_after_days", 60), "XVIII-12-a": Delay("days", 30),
    "XVIII-12-b": Delay("days", 30), "XVIII-12-c": Delay("days", 30),
    "XVIII-16": Delay("days", 30), "XXVI-1": Delay("on_deposit"), "XXVI-2": Delay("months", 6),
    "XXVI-2-a": Delay("months", 6), "XXVI-2-b": Delay("months", 6),
    "XXVI-2-c": Delay("months", 6), "XXVI-2-d": Delay("months", 6),
    "XXVI-3": Delay("days", 30), "XXVI-4": Delay("days", 30),
    "XXVI-5": Delay("first_of_nth_month_after_month", 6),
    "XXVI-6": Delay("first_of_nth_month_after_month", 6), "XXVI-8": Delay("days", 90),
    "XXVI-9": Delay("days", 90), "XXVII-2-f": Delay("days", 90), "XXVII-7-c": Delay("days", 90),
    "XXVII-7-d": Delay("days", 30), "XXVII-17": Delay("days", 90),
}  # fmt: skip


def test_catalogue_version_4_states_why(untc: Catalogue) -> None:
    assert untc.version == 4
    assert "# 4: `later`" in UNTC.read_text("utf-8")


def test_every_later_delay_is_stated(untc: Catalogue) -> None:
    assert {t: r.later for t, r in untc.rules.items()} == LATER
    raw = tomllib.loads(UNTC.read_text("utf-8"))["treaty"]
    assert all("later" in spec for spec in raw.values())  # written out, not defaulted


@pytest.mark.parametrize(
    ("treaty_id", "other", "fallback"),
    [
        ("IV-5", "IV-4", date(1976, 3, 23)),
        ("IV-15-a", "IV-15", date(2008, 5, 3)),
        ("XVIII-12-a", "XVIII-12", date(2003, 9, 29)),
        ("XVIII-12-b", "XVIII-12", date(2003, 9, 29)),
        ("XVIII-12-c", "XVIII-12", date(2003, 9, 29)),
    ],
)
def test_dependencies_cite_the_other_treaty(
    untc: Catalogue, treaty_id: str, other: str, fallback: date
) -> None:
    rule = untc.rules[treaty_id]
    assert rule.after_treaty == other and rule.not_before == fallback
    assert f"Not before the entry into force of {other}" in rule.words()


def _status(text: str) -> TreatyStatus:
    return TreatyStatus(treaty_id="X-1", title="X", participants=(), eif_text=text)


def test_rule_and_warning_quotes_the_refused_words() -> None:
    text = (
        "This Protocol shall enter into force on the ninetieth day after the date of deposit of "
        "the fortieth instrument of ratification, except that it shall not enter into force "
        "before the entry into force of the Convention."
    )
    rule, warning = rule_and_warning("untc", "NOT-CATALOGUED", _status(text))
    assert rule is None and rule_for("untc", "NOT-CATALOGUED", _status(text)) is None
    assert warning == (
        "no entry-into-force rule known: the printed text could not be read (depends on another "
        "treaty): 'except that it shall not enter into force before the entry into force of the "
        "convention'"
    )


def test_rule_and_warning_without_status_or_with_a_rule(untc: Catalogue) -> None:
    assert rule_and_warning("untc", "NOT-CATALOGUED", None) == (None, NO_RULE)
    assert rule_and_warning("untc", "XVIII-16", None) == (untc.rules["XVIII-16"], "")
    text = (
        "This Convention shall enter into force on the thirtieth day after the date of deposit "
        "of the twentieth instrument of ratification."
    )
    rule, warning = rule_and_warning("untc", "NOT-CATALOGUED", _status(text))
    assert rule is not None and rule.origin == "extracted" and warning == ""
    assert rule.reio is Reio.UNKNOWN and rule.later is None


# ---- not modelled: a treaty the catalogue declines, with its reason --------------------------

NOT_MODELLED = (
    VALID
    + """
[not_modelled."T-3"]
title = "An old Convention"
reason = "governed by the ratification of a given Act"
citation = "art. 20"
"""
)


def test_a_not_modelled_treaty_has_no_rule_and_its_warning_quotes_the_reason(tmp_path: Path):
    found = _load(write(tmp_path, NOT_MODELLED), "test")
    assert "T-3" not in found.rules
    assert found.not_modelled["T-3"].warning() == (
        f"{NO_RULE}: not modelled: governed by the ratification of a given Act (art. 20)"
    )


def test_a_not_modelled_treaty_is_not_extracted_from_its_page_either(monkeypatch):
    """Even where the printed text has words the extractor knows, nothing is guessed."""
    status = TreatyStatus(
        treaty_id="1",
        title="WIPO Convention",
        eif_text="This Convention shall enter into force three months after ten instruments.",
    )
    rule, warning = rule_and_warning("wipo", "1", status)
    assert rule is None
    assert warning.startswith(f"{NO_RULE}: not modelled: ") and "Paris Union" in warning


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[not_modelled."T-3"]\nreason = "r"\n', "needs a reason and a citation"),
        ('[not_modelled."T-3"]\nreason = "r"\ncitation = "c"\nthreshold = 3\n', "unknown"),
        (
            '[not_modelled."T-1"]\nreason = "r"\ncitation = "c"\n',
            "both a rule and not_modelled: T-1",
        ),
    ],
)
def test_a_bad_not_modelled_entry_names_what_is_wrong(tmp_path: Path, extra: str, message: str):
    with pytest.raises(RuleError, match=message):
        _load(write(tmp_path, VALID + "\n" + extra), "test")


def test_the_wipo_catalogue_cites_every_rule_and_every_refusal() -> None:
    wipo = catalogue("wipo")
    assert wipo.version >= 1 and len(wipo.rules) >= 15
    for treaty_id, rule in wipo.rules.items():
        assert treaty_id.isdigit(), treaty_id  # WIPO Lex treaty_id
        assert rule.citation and rule.title, treaty_id
        assert rule_from_spec(treaty_id, rule.to_spec()) == rule, treaty_id
    for treaty_id, declined in wipo.not_modelled.items():
        assert declined.reason and declined.citation and declined.title, treaty_id
    # Marrakesh, art. 18: 20 eligible parties, three months; the WCT counts States only.
    marrakesh = wipo.rules["843"]
    assert (marrakesh.threshold, marrakesh.delay, marrakesh.later) == (
        20,
        Delay("months", 3),
        Delay("months", 3),
    )
    assert wipo.rules["16"].reio is Reio.NOT_COUNTED and wipo.rules["16"].only == "states"
    assert set(wipo.not_modelled) >= {"1", "2", "15"}  # WIPO Convention, Paris, Berne
