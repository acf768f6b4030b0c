"""Source health: a pure rule over a source row and the time, and the bookkeeping that stores it.

A source is unhealthy when

- its last successful crawl is older than the freshness deadline (a source never crawled
  successfully counts from when it was added, so a source whose crawls never run turns
  unhealthy too), or
- its last `unhealthy_after` crawls in a row failed or had a quarantined page, or
- a page failed validation (maintenance page, layout change, shrunken table: kept in quarantine)
  since its last good crawl: that makes the source unhealthy at once (the brief's rule); a page
  that could not be fetched counts through its crawl instead.

It is healthy again as soon as a good crawl is recorded (the failure streak drops to 0 and the
last success is now). The streak counts *crawls* (`record_crawl`), never single pages: a page
that could not be fetched or was quarantined is kept with its reason and noted as the source's
`last_error`, and the crawl it belongs to then counts as one failed crawl when it ends.

`Source.healthy` stores the verdict (the API, /healthz and /metrics read it); it is refreshed by
every recorded crawl and by the service's periodic health job (staleness needs no crawl to pass).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from db.engine import SQLITE_BEGIN
from db.models import Event, Quarantine, Source
from tracker.services.repository import get_or_create_source

if TYPE_CHECKING:
    from tracker.settings import Settings

log = logging.getLogger("tracker.health")

DEFAULT_FRESHNESS = timedelta(hours=12)  # two crawl intervals
DEFAULT_UNHEALTHY_AFTER = 2


@dataclass(frozen=True)
class HealthPolicy:
    """The rule's two parameters (settings TRACKER_FRESHNESS_HOURS, TRACKER_UNHEALTHY_AFTER)."""

    freshness: timedelta = DEFAULT_FRESHNESS
    unhealthy_after: int = DEFAULT_UNHEALTHY_AFTER

    def __post_init__(self) -> None:
        if self.freshness <= timedelta(0):
            raise ValueError(f"freshness must be positive, got {self.freshness}")
        if self.unhealthy_after < 1:
            raise ValueError(f"unhealthy_after must be at least 1, got {self.unhealthy_after}")

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthPolicy:
        return cls(timedelta(hours=settings.freshness_hours), settings.unhealthy_after)


DEFAULT_POLICY = HealthPolicy()


class SourceRow(Protocol):
    """What the rule reads of a source (a `db.models.Source` row, or anything shaped like it)."""

    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def consecutive_failures(self) -> int | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...


@dataclass(frozen=True)
class Health:
    """The verdict: healthy, or not with the reasons why (for people)."""

    healthy: bool
    reasons: list[str] = field(default_factory=list)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


def source_health(
    source: SourceRow,
    now: datetime,
    policy: HealthPolicy = DEFAULT_POLICY,
    rejected_at: datetime | None = None,
) -> Health:
    """Apply the rule to `source` at `now` (aware). Pure: reads the row, changes nothing.

    `rejected_at`: when a page of this source last failed validation since its last good crawl.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    reasons: list[str] = []
    if rejected_at is not None:
        last = f": {source.last_error}" if source.last_error else ""
        reasons.append(f"a page failed validation at {rejected_at.isoformat()}{last}")
    failures = source.consecutive_failures or 0
    if failures >= policy.unhealthy_after:
        last = f" (last: {source.last_error})" if source.last_error else ""
        reasons.append(f"{failures} consecutive failed or quarantined crawls{last}")
    if source.last_success_at is not None:
        if now - source.last_success_at > policy.freshness:
            reasons.append(
                f"stale: last successful crawl at {source.last_success_at.isoformat()}, "
                f"older than {_hours(policy.freshness)}"
            )
    elif source.created_at is not None and now - source.created_at > policy.freshness:
        reasons.append(
            f"stale: no successful crawl since the source was added at "
            f"{source.created_at.isoformat()}, more than {_hours(policy.freshness)} ago"
        )
    return Health(healthy=not reasons, reasons=reasons)


def apply_health(source: Source, now: datetime, policy: HealthPolicy = DEFAULT_POLICY) -> Health:
    """Store the verdict on the row (`healthy`; `last_error` if it had none); log a change."""
    health = source_health(source, now, policy, _rejected_since_success(source))
    was = source.healthy
    source.healthy = health.healthy
    if not health.healthy and source.last_error is None:
        source.last_error = health.reasons[0]
    if was is not None and was != health.healthy:
        _record_change(source, health, now)
        log.log(
            logging.INFO if health.healthy else logging.WARNING,
            "source %s: %s",
            source.slug,
            "healthy again" if health.healthy else "unhealthy: " + "; ".join(health.reasons),
            extra={
                "event": "source_health",
                "source": source.slug,
                "healthy": health.healthy,
                "reasons": health.reasons,
            },
        )
    return health


def _record_change(source: Source, health: Health, now: datetime) -> None:
    """An operators' event (source_unhealthy / source_recovered) and its deliveries."""
    from tracker.alerts import outbox

    session = object_session(source)
    if session is None:
        return
    event = Event(
        treaty_id=None,
        source_id=source.id,
        kind="source_recovered" if health.healthy else "source_unhealthy",
        observed_at=now,
        details={"source": source.slug, "reasons": health.reasons, "last_error": source.last_error},
        state="final",
    )
    session.add(event)
    session.flush()
    outbox.enqueue(session, [event.id], now)


def _rejected_since_success(source: Source) -> datetime | None:
    """When a page of `source` last failed validation after its last good crawl (None: never)."""
    session = object_session(source)
    if session is None or source.id is None:
        return None
    query = select(func.max(Quarantine.fetched_at)).where(
        Quarantine.source_id == source.id, Quarantine.kind == "rejected_page"
    )
    if source.last_success_at is not None:
        query = query.where(Quarantine.fetched_at > source.last_success_at)
    return session.scalar(query)


def lock_source(session: Session, slug: str, url: str | None = None) -> Source:
    """The source row (inserted on first sight), locked FOR UPDATE on PostgreSQL and reloaded,
    so concurrent bookkeeping (a crawl ending, the periodic job) cannot lose an update."""
    row = get_or_create_source(session, slug, url)
    return session.get_one(Source, row.id, with_for_update=True, populate_existing=True)


def refresh_health(
    session_factory: sessionmaker[Session],
    now: datetime,
    policy: HealthPolicy = DEFAULT_POLICY,
    known: Iterable[str] = (),
) -> dict[str, Health]:
    """Re-evaluate every source at `now` and store the verdicts (the periodic job).

    Sources named in `known` get a row first, so a source that was never crawled turns unhealthy
    once the freshness deadline has passed since the service first saw it.
    """
    verdicts: dict[str, Health] = {}
    with session_factory.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        for slug in known:
            get_or_create_source(session, slug)
        rows = session.scalars(
            select(Source)
            .order_by(Source.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for row in rows:
            verdicts[row.slug] = apply_health(row, now, policy)
    return verdicts


def crawl_recorded_since(
    session_factory: sessionmaker[Session], slug: str, since: datetime
) -> bool:
    """Whether a crawl of `slug` finishing at or after `since` was recorded (by `record_crawl`)."""
    with session_factory() as session:
        row = session.scalar(select(Source).where(Source.slug == slug))
        finished = (row.last_crawl or {}).get("finished_at") if row is not None else None
    if not finished:
        return False
    try:
        return datetime.fromisoformat(finished) >= since
    except (TypeError, ValueError):
        return False


__all__ = [
    "DEFAULT_POLICY",
    "Health",
    "HealthPolicy",
    "apply_health",
    "crawl_recorded_since",
    "lock_source",
    "refresh_health",
    "source_health",
]
