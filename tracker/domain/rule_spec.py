"""Build an entry-into-force rule from its spec (the schema: tracker.domain.rules), validating it.

Standard library only. `rule_from_spec` names what is wrong with a spec in a RuleError: an
unknown key, a date, a group, a share or a treaty reference it cannot read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker.domain.delays import Delay, RuleError
from tracker.domain.rules import DEFAULT_COUNTS, STATES, Condition, Group, Reio, Rule, Share

_SPEC_KEYS = frozenset(
    {
        "threshold",
        "counts",
        "reio",
        "delay",
        "later",
        "not_before",
        "fixed_date",
        "all_of",
        "at_least",
        "conditions",
        "after_treaty",
        "only",
        "share_of",
        "citation",
        "title",
        "notes",
        "withdrawal",
        "withdrawal_citation",
    }
)


def _date(value: Any, what: str, treaty_id: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"{treaty_id}: {what} must be a date (YYYY-MM-DD), not {value!r}") from None


def _group(spec: Any, treaty_id: str, *, with_k: bool) -> Group:
    if not isinstance(spec, dict) or not spec.get("participants"):
        raise RuleError(f"{treaty_id}: a group needs a label and a list of participants (ISO3)")
    members = tuple(str(p).upper() for p in spec["participants"])
    bad = [p for p in members if len(p) != 3 or not p.isalpha()]
    if bad:
        raise RuleError(f"{treaty_id}: group members are ISO3 codes; not {', '.join(bad)}")
    k = spec.get("k") if with_k else None
    if with_k and not isinstance(k, int):
        raise RuleError(f"{treaty_id}: at_least needs a whole number k")
    return Group(
        label=str(spec.get("label") or "the named participants"), participants=members, k=k
    )


def _treaty_ref(value: Any, what: str, treaty_id: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f'{treaty_id}: {what} names a treaty by its id, e.g. "IV-4"')
    if value.strip() == treaty_id:
        raise RuleError(f"{treaty_id}: {what} cannot name the treaty itself")
    return value.strip()


def _only(value: Any, treaty_id: str) -> str | Group | None:
    if value is None or value == STATES:
        return None if value is None else STATES
    if isinstance(value, dict):
        return _group(value, treaty_id, with_k=False)
    raise RuleError(f'{treaty_id}: only is "states" or a group {{label, participants}}')


def _share(value: Any, treaty_id: str) -> Share | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"treaty", "numerator", "denominator"}:
        raise RuleError(f"{treaty_id}: share_of is {{treaty, numerator, denominator}}")
    num, den = value["numerator"], value["denominator"]
    if any(isinstance(n, bool) or not isinstance(n, int) for n in (num, den)) or not (
        0 < num <= den
    ):
        raise RuleError(f"{treaty_id}: share_of needs whole numbers 0 < numerator <= denominator")
    treaty = _treaty_ref(value["treaty"], "share_of", treaty_id)
    assert treaty is not None
    return Share(treaty, num, den)


def rule_from_spec(treaty_id: str, spec: dict[str, Any], origin: str = "catalogue") -> Rule:
    """Build and validate a rule from its spec (RuleError names what is wrong)."""
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise RuleError(f"{treaty_id}: unknown rule key(s) {', '.join(unknown)}")
    if "delay" not in spec:
        raise RuleError(f"{treaty_id}: a rule needs a delay, e.g. delay = {{days = 90}}")
    try:
        reio = Reio(spec.get("reio", Reio.AS_STATE.value))
    except ValueError:
        raise RuleError(f"{treaty_id}: reio is one of {', '.join(r.value for r in Reio)}") from None
    threshold = spec.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)):
        raise RuleError(f"{treaty_id}: threshold must be a whole number, not {threshold!r}")
    conditions = []
    for c in spec.get("conditions", ()):
        if not isinstance(c, dict) or not c.get("key") or not c.get("description"):
            raise RuleError(f"{treaty_id}: a condition needs a key and a description")
        conditions.append(Condition(str(c["key"]), str(c["description"])))
    return Rule(
        treaty_id=treaty_id,
        threshold=threshold,
        counts=tuple(spec.get("counts", DEFAULT_COUNTS)),
        reio=reio,
        delay=Delay.from_spec(spec["delay"]),
        later=Delay.from_spec(spec["later"]) if spec.get("later") is not None else None,
        not_before=_date(spec.get("not_before"), "not_before", treaty_id),
        fixed_date=_date(spec.get("fixed_date"), "fixed_date", treaty_id),
        all_of=_group(spec["all_of"], treaty_id, with_k=False) if spec.get("all_of") else None,
        at_least=tuple(_group(g, treaty_id, with_k=True) for g in spec.get("at_least", ())),
        conditions=tuple(conditions),
        after_treaty=_treaty_ref(spec.get("after_treaty"), "after_treaty", treaty_id),
        only=_only(spec.get("only"), treaty_id),
        share_of=_share(spec.get("share_of"), treaty_id),
        origin=origin,
        citation=spec.get("citation"),
        title=spec.get("title"),
        notes=spec.get("notes"),
        withdrawal=Delay.from_spec(spec["withdrawal"]) if spec.get("withdrawal") else None,
        withdrawal_citation=spec.get("withdrawal_citation"),
    )
