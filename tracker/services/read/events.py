"""The read side of events: a treaty's history (its snapshots and events), lists of events
(newest first, filtered) and the public feeds' settled events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from db.models import Event, Snapshot, Source, Treaty
from db.models import Participant as ParticipantRow
from db.vocabulary import RULE_EVENT_KINDS, SETTLED_EVENT_STATES
from tracker.services.read.common import iso_or_none
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import aware
from tracker.sources import registry


def event_dict(
    e: Event, iso3: str | None, treaty: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """One event as answered (`tracker history --json`); with its treaty (public id) and its
    source where events of several treaties are listed."""
    found: dict[str, Any] = {"id": e.id}
    if treaty is not None:
        found["treaty"] = treaty
    if source is not None:
        found["source"] = source
    return found | {
        "kind": e.kind,
        "participant": e.participant_name,
        "iso3": iso3,
        "legal_date": iso_or_none(e.legal_date),
        "observed_at": iso_or_none(e.observed_at),
        "state": e.state,
        "snapshot_id": e.snapshot_id,
        "details": e.details,
    }


def treaty_history(
    session: Session, treaty_id: str, *, since: datetime | None = None
) -> dict[str, Any]:
    """List a treaty's snapshots and events in observation order (`since`: those observed at or
    after it only)."""
    treaty, slug = find_treaty(session, treaty_id)
    snapshot_query = select(Snapshot).where(Snapshot.treaty_id == treaty.id)
    event_query = (
        select(Event, ParticipantRow.iso3)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .where(Event.treaty_id == treaty.id)
    )
    if since is not None:
        snapshot_query = snapshot_query.where(Snapshot.observed_at >= since)
        event_query = event_query.where(Event.observed_at >= since)
    snapshots = session.scalars(snapshot_query.order_by(Snapshot.observed_at, Snapshot.id)).all()
    events = session.execute(event_query.order_by(Event.observed_at, Event.id))
    return {
        "treaty": registry.public_id(slug, treaty.external_id),
        "title": treaty.title,
        "source": slug,
        "since": iso_or_none(since),
        "snapshots": [
            {
                "id": s.id,
                "observed_at": iso_or_none(s.observed_at),
                "fetched_at": iso_or_none(s.fetched_at),
                "status_as_at": iso_or_none(s.status_as_at),
                "hash": s.content_hash,
                "url": s.url,
                "signatories": s.signatories,
                "parties": s.parties,
                "published_signatories": s.published_signatories,
                "published_parties": s.published_parties,
            }
            for s in snapshots
        ],
        "events": [event_dict(e, iso3) for e, iso3 in events],
    }


def events(
    session: Session,
    *,
    treaty_id: int | None = None,
    since: datetime | None = None,
    kind: str | None = None,
    source: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Events, newest observation first, filtered by treaty, observation time, kind and the
    treaty's source (a slug)."""
    query = (
        select(Event, Treaty.external_id, Source.slug, ParticipantRow.iso3)
        .join(Treaty, Treaty.id == Event.treaty_id)
        .join(Source, Source.id == Treaty.source_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .order_by(Event.observed_at.desc(), Event.id.desc())
        .limit(limit)
    )
    if treaty_id is not None:
        query = query.where(Event.treaty_id == treaty_id)
    query = narrowed(query, since=since, kind=kind, source=source)
    return [
        event_dict(e, iso3, registry.public_id(slug, t), slug)
        for e, t, slug, iso3 in session.execute(query)
    ]


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def narrowed(
    query: _Query,
    *,
    since: datetime | None = None,
    kind: str | None = None,
    source: str | None = None,
) -> _Query:
    """A query over events joined to their treaty's Source, kept to those observed at or after
    `since`, of `kind`, of the source `source` (a slug): each filter only where given."""
    if since is not None:
        query = query.where(Event.observed_at >= since)
    if kind is not None:
        query = query.where(Event.kind == kind)
    if source is not None:
        query = query.where(Source.slug == source)
    return query


def not_baseline() -> Any:
    """A WHERE clause: the event is not a baseline (details.baseline absent or false: a rule
    event the tracker's first look at its treaty already showed, history rather than news)."""
    return func.coalesce(Event.details["baseline"].as_boolean(), false()) == false()


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
    session: Session,
    *,
    treaty_id: int | None = None,
    source: str | None = None,
    limit: int = 100,
    baseline: bool = False,
) -> list[dict[str, Any]]:
    """The events of a public feed, newest first by `feed_at`: the time the event became a
    settled fact (a released held event: its release, details.settled.at; any other: its
    observation). Only settled events (SETTLED_EVENT_STATES); baseline events only when
    `baseline`. Each with its treaty's `title` and whether it is a `baseline`."""
    base = (
        select(Event, Treaty.external_id, Source.slug, ParticipantRow.iso3, Treaty.title)
        .join(Treaty, Treaty.id == Event.treaty_id)
        .join(Source, Source.id == Treaty.source_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .where(Event.state.in_(SETTLED_EVENT_STATES))
    )
    if treaty_id is not None:
        base = base.where(Event.treaty_id == treaty_id)
    if source is not None:
        base = base.where(Source.slug == source)
    if not baseline:
        base = base.where(not_baseline())
    newest = base.order_by(Event.observed_at.desc(), Event.id.desc()).limit(limit)
    # A released event may have been observed long before the newest: rule events are few.
    released = base.where(Event.kind.in_(RULE_EVENT_KINDS))
    found: dict[int, dict[str, Any]] = {}
    for query in (newest, released):
        for e, t, slug, iso3, title in session.execute(query):
            if e.id in found:
                continue
            public = registry.public_id(slug, t)
            found[e.id] = event_dict(e, iso3, public, slug) | {
                "feed_at": _feed_at(e).isoformat(),
                "title": title,
                "baseline": bool((e.details or {}).get("baseline")),
            }
    rows = sorted(
        found.values(), key=lambda r: (datetime.fromisoformat(r["feed_at"]), r["id"]), reverse=True
    )
    return rows[:limit]
