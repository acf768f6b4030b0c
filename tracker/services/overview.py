"""Read side for the API and dashboard: treaties with their rule progress, events, countries.

Each treaty's evaluation is cached per (snapshot and its content hash, confirmations, day): a
snapshot never changes, so a poll that finds nothing new costs no re-evaluation.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ActionRow, Event, Source, Treaty
from db.models import Participant as ParticipantRow
from db.vocabulary import RULE_EVENT_KINDS, SETTLED_EVENT_STATES
from tracker.catalogue import catalogue, rule_for
from tracker.domain.evaluate import evaluate
from tracker.domain.models import TreatyStatus
from tracker.services.detection import confirmations
from tracker.services.queries import event_dict, iso_or_none, list_treaties
from tracker.services.repository import aware, latest_snapshot
from tracker.services.rule_context import rule_context
from tracker.services.status_view import sort_key
from tracker.sources import registry

STAGES = ("not in force", "threshold met", "in force")
_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_CACHE_SIZE = 4096


def _progress(session: Session, treaty: Treaty, slug: str, today: date) -> dict[str, Any]:
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        return {}
    confirmed = confirmations(session, treaty.id)
    # The content hash too: snapshot ids repeat across databases (one process may serve several,
    # as the test suite does), and an id alone returned another treaty's progress.
    key = (
        slug,
        treaty.external_id,
        snapshot.id,
        snapshot.content_hash,
        tuple(sorted(confirmed.items())),
        today,
        catalogue(slug).version,
    )
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    status = TreatyStatus.from_dict(snapshot.data)
    rule = rule_for(slug, treaty.external_id, status)
    found: dict[str, Any] = {
        "threshold": None,
        "qualifying_instruments": None,
        "remaining": None,
        "threshold_met_on": None,
        "entry_into_force": None,
        "rule_origin": None,
        "published_entry_into_force": iso_or_none(status.eif_date),
    }
    context: dict[str, Any] = {}
    if rule is not None:
        # what the rule needs from other treaties (their dates are not in the cache key)
        context = rule_context(session, treaty, rule)
        ev = evaluate(rule, status, confirmations=confirmed, today=today, **context)
        needed = (
            rule.threshold if rule.threshold is not None else sum(g.group.needed for g in ev.groups)
        )
        found |= {
            "threshold": needed,
            "qualifying_instruments": ev.qualifying,
            "remaining": ev.remaining,
            "threshold_met_on": iso_or_none(ev.threshold_met_on),
            "entry_into_force": iso_or_none(ev.computed),
            "rule_origin": rule.origin,
            "agrees": ev.agrees,
        }
    if context:
        return found
    _CACHE[key] = found
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return found


def stage(row: dict[str, Any], today: date) -> str:
    """not in force / threshold met / in force: by the computed date, else the printed one."""
    eif = row.get("entry_into_force") or row.get("published_entry_into_force")
    if (eif and eif <= today.isoformat()) or (row.get("in_force") and row.get("threshold") is None):
        return "in force"
    if row.get("threshold_met_on"):
        return "threshold met"
    return "not in force"


def treaties_overview(
    session: Session,
    *,
    today: date,
    q: str | None = None,
    source: str | None = None,
    in_force: bool | None = None,
    sort: str = "treaty",
) -> list[dict[str, Any]]:
    """Every tracked treaty with counts, rule progress, stage and its source's health."""
    health = {s.slug: s for s in session.scalars(select(Source))}
    treaties = {
        (registry.public_id(slug, t.external_id), slug): t for t, slug in _treaties(session)
    }
    rows = []
    for row in list_treaties(session):
        if source and row["source"] != source:
            continue
        if q and q.casefold() not in f"{row['treaty']} {row['title']}".casefold():
            continue
        treaty = treaties.get((row["treaty"], row["source"]))
        if treaty is None:
            continue
        row = row | _progress(session, treaty, row["source"], today)
        row["stage"] = stage(row, today)
        src = health.get(row["source"])
        row["source_healthy"] = src.healthy if src else None
        if in_force is not None and (row["stage"] == "in force") != in_force:
            continue
        rows.append(row)
    if sort == "remaining":
        rows.sort(
            key=lambda r: (r["remaining"] is None, r["remaining"] or 0, sort_key(r["treaty"]))
        )
    return rows


def _treaties(session: Session) -> list[tuple[Treaty, str]]:
    query = select(Treaty, Source.slug).join(Source, Source.id == Treaty.source_id)
    return [(t, slug) for t, slug in session.execute(query)]


def events(
    session: Session,
    *,
    treaty_id: int | None = None,
    since: datetime | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Events, newest observation first, filtered by treaty, observation time and kind."""
    query = (
        select(Event, Treaty.external_id, ParticipantRow.iso3)
        .join(Treaty, Treaty.id == Event.treaty_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .order_by(Event.observed_at.desc(), Event.id.desc())
        .limit(limit)
    )
    if treaty_id is not None:
        query = query.where(Event.treaty_id == treaty_id)
    if since is not None:
        query = query.where(Event.observed_at >= since)
    if kind is not None:
        query = query.where(Event.kind == kind)
    return [event_dict(e, iso3, t) for e, t, iso3 in session.execute(query)]


# What a public feed carries: settled facts only. A held (`disputed`), `suspicious` or
# `retracted` event is left out; a held event enters when it is released (made final).


def _feed_at(e: Event) -> datetime:
    """When the event became a settled fact: its release (details.settled.at), else its
    observation; aware (UTC when stored without a zone)."""
    settled = (e.details or {}).get("settled")
    text = settled.get("at") if isinstance(settled, dict) else None
    moment = e.observed_at
    if isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass  # an unreadable release time: the observation stands
    return aware(moment)


def feed_events(
    session: Session, *, treaty_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The events of a public feed, newest first by `feed_at`: the time the event became a
    settled fact (a released held event: its release, details.settled.at; any other: its
    observation). Only settled events (SETTLED_EVENT_STATES)."""
    base = (
        select(Event, Treaty.external_id, ParticipantRow.iso3)
        .join(Treaty, Treaty.id == Event.treaty_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .where(Event.state.in_(SETTLED_EVENT_STATES))
    )
    if treaty_id is not None:
        base = base.where(Event.treaty_id == treaty_id)
    newest = base.order_by(Event.observed_at.desc(), Event.id.desc()).limit(limit)
    # A released event may have been observed long before the newest: rule events are few.
    released = base.where(Event.kind.in_(RULE_EVENT_KINDS))
    found: dict[int, dict[str, Any]] = {}
    for query in (newest, released):
        for e, t, iso3 in session.execute(query):
            if e.id in found:
                continue
            found[e.id] = event_dict(e, iso3, t) | {"feed_at": _feed_at(e).isoformat()}
    rows = sorted(
        found.values(), key=lambda r: (datetime.fromisoformat(r["feed_at"]), r["id"]), reverse=True
    )
    return rows[:limit]


def country(session: Session, iso3: str) -> dict[str, Any] | None:
    """A State's current actions across every tracked treaty (None: never seen)."""
    participant = session.scalar(select(ParticipantRow).where(ParticipantRow.iso3 == iso3.upper()))
    if participant is None:
        return None
    query = (
        select(ActionRow, Treaty.external_id, Treaty.title)
        .join(Treaty, Treaty.id == ActionRow.treaty_id)
        .where(ActionRow.participant_id == participant.id, ActionRow.ended_snapshot_id.is_(None))
        .order_by(ActionRow.legal_date)
    )
    per_treaty: dict[str, dict[str, Any]] = {}
    for action, treaty, title in session.execute(query):
        entry = per_treaty.setdefault(treaty, {"treaty": treaty, "title": title, "actions": []})
        entry["actions"].append(
            {
                "column": action.column,
                "kind": action.kind,
                "date": iso_or_none(action.legal_date),
                "withdrawn": action.withdrawn,
                "printed_name": action.printed_name,
                "first_observed_at": iso_or_none(action.first_observed_at),
            }
        )
    return {
        "iso3": participant.iso3,
        "name": participant.name,
        "reio": participant.reio,
        "treaties": sorted(per_treaty.values(), key=lambda t: sort_key(t["treaty"])),
    }
