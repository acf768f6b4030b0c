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

from tracker.domain.models import TreatyStatus
from tracker.domain.rule_text import extract_rule_spec
from tracker.domain.rules import Rule, RuleError, rule_from_spec

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


def extracted_rule(treaty_id: str, status: TreatyStatus) -> Rule | None:
    """The rule read from the printed entry-into-force text, if it uses a common wording."""
    spec = extract_rule_spec(status.eif_text or "")
    if spec is None:
        return None
    try:
        rule = rule_from_spec(treaty_id, spec, origin="extracted")
    except RuleError:
        return None
    return rule


def rule_for(slug: str, treaty_id: str, status: TreatyStatus | None) -> Rule | None:
    """The curated rule of a treaty, else the one extracted from its page, else None."""
    curated = catalogue(slug).rules.get(treaty_id)
    if curated is not None:
        return curated
    return extracted_rule(treaty_id, status) if status is not None else None
