"""The curated catalogue of entry-into-force rules (tracker/catalogue/*.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tracker.catalogue import CATALOGUE_DIR, Catalogue, _load, catalogue, rule_for
from tracker.domain.rules import Delay, Reio, Rule, RuleError, rule_from_spec

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
    with pytest.raises(RuleError, match="absent.toml"):
        _load(path, "test")


def test_invalid_rule_names_the_treaty(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("threshold = 5", "threshold = 0"))
    with pytest.raises(RuleError, match="T-2: threshold must be positive"):
        _load(path, "test")


def test_invalid_rule_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("threshold = 5", "threshold = 0"))
    with pytest.raises(RuleError, match="broken.toml"):
        _load(path, "test")
