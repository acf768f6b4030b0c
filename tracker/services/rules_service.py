"""Rules for people and operators: list and show rules, confirm conditions, evaluate now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ConditionConfirmation, Source, Treaty
from tracker.catalogue import catalogue
from tracker.domain.rules import Rule
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.services.rule_events import (
    confirmations,
    evaluate_all,
    evaluate_treaty,
    rule_and_status,
    rule_summary,
)
from tracker.settings import DEFAULTS
from tracker.sources import registry
from tracker.sources.registry import sort_key


class BadCondition(ValueError):
    """A confirmation names a condition the treaty's rule does not have."""


def _describe(
    treaty_id: str, rule: Rule, tracked: bool, confirmed: dict[str, date]
) -> dict[str, Any]:
    return {
        "treaty": treaty_id,
        "title": rule.title,
        "tracked": tracked,
        **rule_summary(rule),
        "conditions": [
            {
                "key": c.key,
                "description": c.description,
                "met_on": confirmed[c.key].isoformat() if c.key in confirmed else None,
                "state": "confirmed" if c.key in confirmed else "awaiting confirmation",
            }
            for c in rule.conditions
        ],
    }


def list_rules(session: Session, source: str | None = None) -> list[dict[str, Any]]:
    """Every curated rule of every registered source (or of `source`), and the extracted rule
    of every tracked treaty not in its source's catalogue; each row names its source."""
    rows = []
    query = select(Treaty, Source.slug).join(Source, Source.id == Treaty.source_id)
    tracked = {(slug, t.external_id): t for t, slug in session.execute(query)}
    for spec in registry.all_sources():
        if source is not None and spec.slug != source:
            continue
        curated = catalogue(spec.slug)
        for tid, r in curated.rules.items():
            public = spec.public_id(tid)
            described = _describe(public, r, (spec.slug, tid) in tracked, {})
            rows.append(described | {"source": spec.slug})
    for (slug, tid), treaty in tracked.items():
        if tid in catalogue(slug).rules or (source is not None and slug != source):
            continue
        rule, status, _ = rule_and_status(session, treaty)
        if rule is not None:
            public = registry.public_id(slug, tid)
            title = status.title if status else None
            rows.append(_describe(public, rule, True, {}) | {"title": title, "source": slug})
    return sorted(rows, key=lambda r: sort_key(r["treaty"]))


def _curated(treaty_id: str) -> tuple[str, Rule, int] | None:
    """The curated rule a public id names (exact, else ignoring case): its public id, the rule
    and its catalogue's version."""
    found = registry.split_id(treaty_id)
    if found is None:
        return None
    source, own = found
    curated = catalogue(source.slug)
    rule = curated.rules.get(own) or curated.rules.get(own.strip().upper())
    return (source.public_id(rule.treaty_id), rule, curated.version) if rule is not None else None


def show_rule(session: Session, treaty_id: str) -> dict[str, Any]:
    """One treaty's rule in words and data (tracked or only curated)."""
    try:
        treaty, slug = find_treaty(session, treaty_id)
    except NotFound:
        curated = _curated(treaty_id)
        if curated is None:
            raise NotFound(
                f"no rule for {treaty_id!r}: not in the catalogue and not tracked"
            ) from None
        public, curated_rule, version = curated
        return _describe(public, curated_rule, False, {}) | {"catalogue_version": version}
    rule, status, _ = rule_and_status(session, treaty)
    declined = catalogue(slug).not_modelled.get(treaty.external_id)
    if rule is None and declined is not None:
        raise NotFound(f"no rule for {treaty_id!r}: {declined.warning()}")
    if rule is None:
        raise NotFound(
            f"no rule for {treaty_id!r}: not in the catalogue, and its printed "
            "entry-into-force text uses no wording the extractor knows"
        )
    public = registry.public_id(slug, treaty.external_id)
    found = _describe(public, rule, True, confirmations(session, treaty.id))
    found["title"] = found["title"] or (status.title if status else None)
    if rule.origin == "extracted" and status is not None:
        found["source_text"] = status.eif_text
    return found | {"catalogue_version": catalogue(slug).version}


def confirm_condition(
    session: Session,
    treaty_id: str,
    key: str,
    met_on: date,
    *,
    note: str | None,
    now: datetime,
    approaching: int = DEFAULTS.approaching_remaining,
) -> dict[str, Any]:
    """Record an operator's confirmation that a condition was met on `met_on`, then re-evaluate."""
    treaty, slug = find_treaty(session, treaty_id)
    rule, _, _ = rule_and_status(session, treaty)
    keys = [c.key for c in rule.conditions] if rule else []
    if key not in keys:
        known = ", ".join(keys) or "none"
        raise BadCondition(
            f"{registry.public_id(slug, treaty.external_id)} has no condition {key!r} "
            f"(its conditions: {known})"
        )
    if met_on > now.date():
        raise BadCondition(
            f"a condition cannot be confirmed as met in the future ({met_on.isoformat()})"
        )
    row = session.scalar(
        select(ConditionConfirmation).where(
            ConditionConfirmation.treaty_id == treaty.id, ConditionConfirmation.key == key
        )
    )
    if row is None:
        row = ConditionConfirmation(treaty_id=treaty.id, key=key, met_on=met_on)
        session.add(row)
    row.met_on, row.note, row.confirmed_at = met_on, note, now
    session.flush()
    detection = evaluate_treaty(session, treaty, now=now, approaching=approaching)
    return {
        "treaty": registry.public_id(slug, treaty.external_id),
        "condition": key,
        "met_on": met_on.isoformat(),
        "events": detection.created,
    }


def evaluate_now(
    session: Session, *, now: datetime, approaching: int = DEFAULTS.approaching_remaining
) -> dict[str, Any]:
    """Evaluate every tracked treaty (the scheduled job); say which events were created."""
    detections = evaluate_all(session, now=now, approaching=approaching)
    pending = {
        d.treaty: d.pending_entry_into_force.isoformat()
        for d in detections
        if d.pending_entry_into_force and d.pending_entry_into_force > now.date()
    }
    return {
        "evaluated": len(detections),
        "with_rule": sum(1 for d in detections if d.evaluation is not None),
        "events": [{"treaty": d.treaty, "kind": k} for d in detections for k in d.created],
        "pending_entry_into_force": pending,
    }
