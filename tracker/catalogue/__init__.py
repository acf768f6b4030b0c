"""The curated catalogue of entry-into-force rules (one TOML file per source slug), and rule lookup.

A treaty's rule comes from the catalogue when it is there; otherwise it is read from the
entry-into-force text printed on its status page, marked as extracted; otherwise there is none.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from tracker.domain.delays import RuleError
from tracker.domain.models import TreatyStatus
from tracker.domain.rule_spec import rule_from_spec
from tracker.domain.rule_text import extract_rule
from tracker.domain.rules import Rule

CATALOGUE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Catalogue:
    slug: str
    version: int
    updated: date | None
    rules: dict[str, Rule]


def _load(path: Path, slug: str) -> Catalogue:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"catalogue {path}: {exc}") from exc
    defaults: dict[str, Any] = data.get("defaults", {})
    try:
        rules = {
            treaty_id: rule_from_spec(treaty_id, {**defaults, **spec}, origin="catalogue")
            for treaty_id, spec in data.get("treaty", {}).items()
        }
    except RuleError as exc:
        raise RuleError(f"catalogue {path}: {exc}") from exc
    version = data.get("version")
    if not isinstance(version, int):
        raise RuleError(f"catalogue {path}: needs a whole-number `version`")
    return Catalogue(slug, version, data.get("updated"), rules)


@cache
def catalogue(slug: str) -> Catalogue:
    """The curated rules of one source (an empty catalogue if the source has none)."""
    path = CATALOGUE_DIR / f"{slug}.toml"
    if not path.exists():
        return Catalogue(slug, 0, None, {})
    return _load(path, slug)


NO_RULE = "no entry-into-force rule known"


def extracted_rule_or_refusal(treaty_id: str, status: TreatyStatus) -> tuple[Rule | None, str]:
    """The rule read from the printed text, or None and why (quoting the words not read)."""
    found = extract_rule(status.eif_text or "")
    if found.spec is None:
        return None, f"{NO_RULE}: {found.refusal()}"
    try:
        return rule_from_spec(treaty_id, found.spec, origin="extracted"), ""
    except RuleError as exc:
        return (
            None,
            f"{NO_RULE}: the rule read from the printed text is invalid: {exc}",
        )


def rule_for(slug: str, treaty_id: str, status: TreatyStatus | None) -> Rule | None:
    """The curated rule of a treaty, else the one extracted from its page, else None."""
    return rule_and_warning(slug, treaty_id, status)[0]


def rule_and_warning(
    slug: str, treaty_id: str, status: TreatyStatus | None
) -> tuple[Rule | None, str]:
    """rule_for, and where there is no rule the warning that says why (empty when there is)."""
    curated = catalogue(slug).rules.get(treaty_id)
    if curated is not None:
        return curated, ""
    if status is None:
        return None, NO_RULE
    return extracted_rule_or_refusal(treaty_id, status)
