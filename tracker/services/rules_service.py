"""Rules for people and operators: list and show rules, confirm conditions, evaluate now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ConditionConfirmation, Treaty
from tracker.catalogue import catalogue
from tracker.domain.rules import Rule
from tracker.services.detection import (
    DEFAULT_APPROACHING,
    confirmations,
    evaluate_all,
    evaluate_treaty,
    rule_and_status,
    rule_summary,
)
from tracker.services.queries import NotFound, find_treaty
from tracker.services.status_view import sort_key

SOURCE = "untc"  # the only source with a catalogue so far


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


def list_rules(session: Session) -> list[dict[str, Any]]:
    """Every curated rule, and the extracted rule of every tracked treaty not in the catalogue."""
    curated = catalogue(SOURCE)
    tracked = {t.external_id: t for t in session.scalars(select(Treaty))}
    rows = [_describe(tid, r, tid in tracked, {}) for tid, r in curated.rules.items()]
    for tid, treaty in tracked.items():
        if tid in curated.rules:
            continue
        rule, status, _ = rule_and_status(session, treaty)
        if rule is not None:
            rows.append(
                _describe(tid, rule, True, {}) | {"title": status.title if status else None}
            )
    return sorted(rows, key=lambda r: sort_key(r["treaty"]))


def show_rule(session: Session, treaty_id: str) -> dict[str, Any]:
    """One treaty's rule in words and data (tracked or only curated)."""
    curated = catalogue(SOURCE)
    try:
        treaty, _ = find_treaty(session, treaty_id)
    except NotFound:
        rule = curated.rules.get(treaty_id) or curated.rules.get(treaty_id.strip().upper())
        if rule is None:
            raise NotFound(
                f"no rule for {treaty_id!r}: not in the catalogue and not tracked"
            ) from None
        return _describe(rule.treaty_id, rule, False, {}) | {"catalogue_version": curated.version}
    rule, status, _ = rule_and_status(session, treaty)
    if rule is None:
        raise NotFound(
            f"no rule for {treaty.external_id!r}: not in the catalogue, and its printed "
            "entry-into-force text uses no wording the extractor knows"
        )
    found = _describe(treaty.external_id, rule, True, confirmations(session, treaty.id))
    found["title"] = found["title"] or (status.title if status else None)
    if rule.origin == "extracted" and status is not None:
        found["source_text"] = status.eif_text
    return found | {"catalogue_version": curated.version}


def confirm_condition(
    session: Session,
    treaty_id: str,
    key: str,
    met_on: date,
    *,
    note: str | None,
    now: datetime,
    approaching: int = DEFAULT_APPROACHING,
) -> dict[str, Any]:
    """Record an operator's confirmation that a condition was met on `met_on`, then re-evaluate."""
    treaty, _ = find_treaty(session, treaty_id)
    rule, _, _ = rule_and_status(session, treaty)
    keys = [c.key for c in rule.conditions] if rule else []
    if key not in keys:
        known = ", ".join(keys) or "none"
        raise BadCondition(
            f"{treaty.external_id} has no condition {key!r} (its conditions: {known})"
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
        "treaty": treaty.external_id,
        "condition": key,
        "met_on": met_on.isoformat(),
        "events": detection.created,
    }


def evaluate_now(
    session: Session, *, now: datetime, approaching: int = DEFAULT_APPROACHING
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
