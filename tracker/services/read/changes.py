"""The read side of "what changed": recent events across every treaty, grouped by day and
treaty (the /changes page), one event by its id (what every feed entry's id names), and the
time a feed with no entries was last brought up to date.

A baseline event is a rule event the tracker recorded from its first look at a treaty
(details.baseline: the threshold was already met, or the treaty already in force, when first
observed): history, not news. Lists of changes leave it out unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.models import Event, Source, Treaty
from db.models import Participant as ParticipantRow
from tracker.services.read.events import event_dict, narrowed, not_baseline
from tracker.services.repository import aware
from tracker.sources import registry

PAGE_SIZE = 100


def _query() -> Select[Event, str, str, str, str | None]:
    return (
        select(Event, Treaty.external_id, Treaty.title, Source.slug, ParticipantRow.iso3)
        .join(Treaty, Treaty.id == Event.treaty_id)
        .join(Source, Source.id == Treaty.source_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
    )


def change_row(
    e: Event, external_id: str, title: str, slug: str, iso3: str | None
) -> dict[str, Any]:
    """One event as listed across treaties: the event, its treaty's public id, title, source,
    and whether it is a baseline."""
    public = registry.public_id(slug, external_id)
    return event_dict(e, iso3, public, slug) | {
        "title": title,
        "baseline": bool((e.details or {}).get("baseline")),
    }


@dataclass(frozen=True)
class TreatyChanges:
    """One treaty's events on one day."""

    treaty: str
    title: str
    source: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class DayChanges:
    """One day (of observation, UTC) and its treaties, in the order of their newest event."""

    day: date
    treaties: list[TreatyChanges] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(t.events) for t in self.treaties)


@dataclass(frozen=True)
class Changes:
    """A page of events, newest observation first, grouped by day and treaty."""

    days: list[DayChanges]
    page: int
    per_page: int
    has_next: bool
    total: int

    @property
    def count(self) -> int:
        return sum(d.count for d in self.days)


def group(rows: list[dict[str, Any]]) -> list[DayChanges]:
    """Rows (newest first) grouped by their observation day, then by treaty."""
    days: dict[date, dict[str, TreatyChanges]] = {}
    for row in rows:
        day = datetime.fromisoformat(row["observed_at"]).date()
        treaties = days.setdefault(day, {})
        found = treaties.get(row["treaty"])
        if found is None:
            found = treaties[row["treaty"]] = TreatyChanges(
                row["treaty"], row["title"], row["source"], []
            )
        found.events.append(row)
    return [DayChanges(day, list(treaties.values())) for day, treaties in days.items()]


def changes(
    session: Session,
    *,
    since: datetime | None = None,
    kind: str | None = None,
    source: str | None = None,
    country: str | None = None,
    baseline: bool = False,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Changes:
    """Events of every treaty observed at or after `since`, newest first, `per_page` a page,
    filtered by kind, source (a slug) and country (an ISO 3166 alpha-3 code); baseline events
    only when `baseline`."""
    query = narrowed(_query(), since=since, kind=kind, source=source)
    if country is not None:
        query = query.where(ParticipantRow.iso3 == country.upper())
    if not baseline:
        query = query.where(not_baseline())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = (
        query.order_by(Event.observed_at.desc(), Event.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    rows = [change_row(*r) for r in session.execute(ordered)]
    return Changes(group(rows[:per_page]), page, per_page, len(rows) > per_page, total)


def event_by_id(session: Session, event_id: int) -> dict[str, Any] | None:
    """One treaty's event by its id (what a feed entry's id names), or None."""
    row = session.execute(_query().where(Event.id == event_id)).first()
    if row is None:
        return None
    return change_row(*row)


def last_checked(
    session: Session, *, treaty_id: int | None = None, source: str | None = None
) -> datetime | None:
    """When the tracker last checked the treaties a feed covers (one treaty, one source's or
    every one): the time an empty feed was last known to be complete."""
    query = select(func.max(Treaty.last_checked_at)).join(Source, Source.id == Treaty.source_id)
    if treaty_id is not None:
        query = query.where(Treaty.id == treaty_id)
    if source is not None:
        query = query.where(Source.slug == source)
    moment = session.scalar(query)
    return aware(moment) if moment is not None else None
