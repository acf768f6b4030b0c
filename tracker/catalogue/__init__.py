"""The curated catalogue of entry-into-force rules (one TOML file per source slug), and rule lookup.

A treaty's rule comes from the catalogue when it is there; otherwise it is read from the
entry-into-force text printed on its status page, marked as extracted; otherwise there is none.
A catalogue may also say of a treaty that its entry into force is not modelled
(`[not_modelled."ID"]`: governed by the ratification of a given Act, or by clauses the rules
cannot express), with the reason and the article: then there is no rule, the answer's warning
quotes that reason, and nothing is extracted or guessed from the page.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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
class NotModelled:
    """A treaty whose entry into force the catalogue declines to model, and why."""

    treaty_id: str
    reason: str
    citation: str
    title: str | None = None

    def warning(self) -> str:
        return f"{NO_RULE}: not modelled: {self.reason} ({self.citation})"


@dataclass(frozen=True)
class Catalogue:
    slug: str
    version: int
    updated: date | None
    rules: dict[str, Rule]
    not_modelled: dict[str, NotModelled] = field(default_factory=dict)


def _not_modelled(path: Path, data: dict[str, Any]) -> dict[str, NotModelled]:
    found: dict[str, NotModelled] = {}
    for treaty_id, spec in data.get("not_modelled", {}).items():
        if not isinstance(spec, dict) or not spec.get("reason") or not spec.get("citation"):
            raise RuleError(
                f"catalogue {path}: not_modelled {treaty_id!r} needs a reason and a citation"
            )
        unknown = set(spec) - {"reason", "citation", "title"}
        if unknown:
            raise RuleError(
                f"catalogue {path}: not_modelled {treaty_id!r}: unknown {sorted(unknown)}"
            )
        found[treaty_id] = NotModelled(
            treaty_id, str(spec["reason"]), str(spec["citation"]), spec.get("title")
        )
    if both := sorted(set(found) & set(data.get("treaty", {}))):
        raise RuleError(f"catalogue {path}: both a rule and not_modelled: {', '.join(both)}")
    return found


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
    return Catalogue(slug, version, data.get("updated"), rules, _not_modelled(path, data))


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
    found = catalogue(slug)
    curated = found.rules.get(treaty_id)
    if curated is not None:
        return curated, ""
    if treaty_id in found.not_modelled:
        return None, found.not_modelled[treaty_id].warning()
    if status is None:
        return None, NO_RULE
    return extracted_rule_or_refusal(treaty_id, status)
