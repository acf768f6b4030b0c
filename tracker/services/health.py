"""Source health: a pure rule over a source row and the time, and the bookkeeping that stores it.

A source is unhealthy when

- it never had a successful crawl: its first crawl failed (or every one since), or no crawl was
  recorded yet ("pending": a newly known source; not healthy, but nothing to alert about until
  a crawl fails or the freshness deadline passes);
- its last successful crawl is older than the freshness deadline (a source never crawled
  successfully counts from when it was added, so a source whose crawls never run turns
  unhealthy, and alerts, too), or
- its last `unhealthy_after` crawls in a row failed or had a quarantined page, or
- a page failed validation (maintenance page, layout change, shrunken table, or a page of the
  treaty's other format that disagrees with its history: kept in quarantine) since its last
  good crawl: that makes the source unhealthy at once (the brief's rule); a page
  that could not be fetched counts through its crawl instead.

It is healthy again as soon as a good crawl is recorded (the failure streak drops to 0 and the
last success is now). The streak counts *crawls* (`record_crawl`), never single pages: a page
that could not be fetched or was quarantined is kept with its reason and noted as the source's
`last_error`, and the crawl it belongs to then counts as one failed crawl when it ends. A crawl
stopped on purpose (SIGTERM, the service stopping) is neither a success nor a failure.

`Source.healthy` stores the verdict (the API, /healthz and /metrics read it) and changes at once;
it is refreshed by every recorded crawl and by the service's periodic health job (staleness
needs no crawl to pass). Operators' alerts have hysteresis: `source_unhealthy` and
`source_recovered` are recorded only once the new state has held for `alert_hold_crawls`
recorded crawls or for `alert_hold` (whichever comes first; the periodic job checks the time),
and they say how long the previous state lasted. The default hold (13 h) is longer than two
crawl intervals, so at the service's pace a source flapping good/bad from crawl to crawl
alerts nobody; a hold shorter than the crawl interval would let every flap through.

Over 300 lines on purpose: one idea, the health rule and the bookkeeping that applies it
(verdicts, their hysteresis, the alert events), which read the same row fields and would only
be split by putting private helpers on both sides. How sources are listed with their health is
the read side (tracker.services.read.sources.list_sources).

Over 300 lines on purpose: the rule and its bookkeeping share the verdict (`Health`) and the
hold of operators' alerts; this docstring is their one contract.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from db import unit_of_work
from db.models import Event, Quarantine, Source
from db.vocabulary import FAILED_VALIDATION_KINDS, EventKind, HealthState
from tracker.services.repository import get_or_create_source
from tracker.settings import DEFAULTS, Settings

log = logging.getLogger("tracker.health")


@dataclass(frozen=True)
class HealthPolicy:
    """The rule's parameters (settings TRACKER_FRESHNESS_HOURS, TRACKER_UNHEALTHY_AFTER) and the
    alerts' hold (TRACKER_HEALTH_ALERT_HOLD_CRAWLS, TRACKER_HEALTH_ALERT_HOLD_MINUTES)."""

    freshness: timedelta
    unhealthy_after: int
    alert_hold_crawls: int
    alert_hold: timedelta

    def __post_init__(self) -> None:
        if self.freshness <= timedelta(0):
            raise ValueError(f"freshness must be positive, got {self.freshness}")
        if self.unhealthy_after < 1:
            raise ValueError(f"unhealthy_after must be at least 1, got {self.unhealthy_after}")
        if self.alert_hold_crawls < 1:
            raise ValueError(f"alert_hold_crawls must be at least 1, got {self.alert_hold_crawls}")
        if self.alert_hold <= timedelta(0):
            raise ValueError(f"alert_hold must be positive, got {self.alert_hold}")

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthPolicy:
        return cls(
            timedelta(hours=settings.freshness_hours),
            settings.unhealthy_after,
            settings.health_alert_hold_crawls,
            timedelta(minutes=settings.health_alert_hold_minutes),
        )


DEFAULT_POLICY = HealthPolicy.from_settings(DEFAULTS)  # the settings' defaults


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
    """The verdict: healthy, or not with the reasons why (for people). `pending`: not healthy
    only because no crawl was recorded yet (a newly known source)."""

    healthy: bool
    reasons: list[str] = field(default_factory=list)
    pending: bool = False

    @property
    def state(self) -> str:
        return (
            HealthState.HEALTHY
            if self.healthy
            else HealthState.PENDING
            if self.pending
            else HealthState.UNHEALTHY
        )


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
    never = source.last_success_at is None
    if never and 0 < failures < policy.unhealthy_after:
        last = f" (last: {source.last_error})" if source.last_error else ""
        crawls = "its first crawl" if failures == 1 else f"all its {failures} crawls"
        reasons.append(f"no successful crawl yet: {crawls} failed{last}")
    pending = never and failures == 0
    if pending:
        known = (
            f" since it became known at {source.created_at.isoformat()}"
            if (source.created_at is not None)
            else ""
        )
        reasons.append(f"not crawled yet: no crawl recorded{known}")
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
    return Health(healthy=not reasons, reasons=reasons, pending=pending and len(reasons) == 1)


def apply_health(
    source: Source, now: datetime, policy: HealthPolicy = DEFAULT_POLICY, *, crawl: bool = False
) -> Health:
    """Store the verdict on the row (`healthy` at once; `last_error` if it had none), follow
    its state (since when, over how many crawls: `crawl` is a recorded crawl) and record the
    operators' event once a new state has held (`policy.alert_hold_crawls` / `alert_hold`)."""
    health = source_health(source, now, policy, rejected_since_success(source))
    state, was = health.state, source.health_state
    if was != state:
        source.health_state = state
        first_pending = (
            was is None and state == HealthState.PENDING and source.created_at is not None
        )
        source.health_state_since = source.created_at if first_pending else now
        source.health_state_crawls = 1 if crawl else 0
    elif crawl:
        source.health_state_crawls = (source.health_state_crawls or 0) + 1
    if crawl:
        source.alert_state_crawls = (source.alert_state_crawls or 0) + 1
    changed = source.healthy != health.healthy
    source.healthy = health.healthy
    if not health.healthy and not health.pending and source.last_error is None:
        source.last_error = health.reasons[0]
    if changed and was is not None:
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
    _alert_if_held(source, health, now, policy)
    return health


def _duration(delta: timedelta) -> str:
    """3 d 4 h, 5 h 10 min, 12 min, 40 s: for people."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _crawls(n: int) -> str:
    return f"{n} crawl{'' if n == 1 else 's'}"


def _alert_if_held(source: Source, health: Health, now: datetime, policy: HealthPolicy) -> None:
    """Tell operators of a new state once it has held; a state that did not hold (flapping)
    tells nobody. The first state of a new source is told only when it is unhealthy."""
    state = source.health_state
    if (
        state == HealthState.PENDING
        or state == source.alert_state
        or source.health_state_since is None
    ):
        return
    crawls = source.health_state_crawls or 0
    held_for = now - source.health_state_since
    previous, previous_since = source.alert_state, source.alert_state_since or source.created_at
    # a new source that works: nothing to recover from, so nothing to hold either
    first_good = previous is None and state == HealthState.HEALTHY
    if not first_good and crawls < policy.alert_hold_crawls and held_for < policy.alert_hold:
        return
    previous_crawls = max(0, (source.alert_state_crawls or 0) - crawls)
    source.alert_state, source.alert_state_since = state, source.health_state_since
    source.alert_state_crawls = crawls
    if first_good:
        return
    lasted = source.health_state_since - previous_since if previous_since is not None else None
    held = (
        f"{state} since {source.health_state_since.isoformat()} ({_crawls(crawls)}, "
        f"{_duration(held_for)})"
    )
    if previous is None:
        before = "never healthy" + (
            f" since it became known at {previous_since.isoformat()}" if previous_since else ""
        )
    else:
        before = (
            f"before: {previous} for {_duration(lasted) if lasted is not None else '?'}"
            + (f" since {previous_since.isoformat()}" if previous_since else "")
            + f" ({_crawls(previous_crawls)})"
        )
    _record_change(
        source,
        health,
        now,
        {
            "state": state,
            "since": source.health_state_since.isoformat(),
            "held_crawls": crawls,
            "held_seconds": int(held_for.total_seconds()),
            "previous": {
                "state": previous,
                "since": previous_since.isoformat() if previous_since else None,
                "until": source.health_state_since.isoformat(),
                "duration_seconds": int(lasted.total_seconds()) if lasted is not None else None,
                "crawls": previous_crawls,
            },
            "lasted": f"{held}; {before}",
        },
    )


def _record_change(source: Source, health: Health, now: datetime, held: dict[str, Any]) -> None:
    """An operators' event (source_unhealthy / source_recovered) and its deliveries."""
    from tracker.alerts import outbox

    session = object_session(source)
    if session is None:
        return
    event = Event(
        treaty_id=None,
        source_id=source.id,
        kind=EventKind.SOURCE_RECOVERED if health.healthy else EventKind.SOURCE_UNHEALTHY,
        observed_at=now,
        details={
            "source": source.slug,
            "reasons": health.reasons,
            "last_error": source.last_error,
            **held,
        },
        state="final",
    )
    session.add(event)
    session.flush()
    outbox.enqueue(session, [event.id], now)
    log.log(
        logging.INFO if health.healthy else logging.WARNING,
        "source %s: alert %s (%s)",
        source.slug,
        event.kind,
        held["lasted"],
        extra={"event": "source_alert", "source": source.slug, "kind": event.kind},
    )


def rejected_since_success(source: Source) -> datetime | None:
    """When a page of `source` last failed validation after its last good crawl (None: never):
    a rejected page, or a page whose other format disagrees with the history
    (db.vocabulary.FAILED_VALIDATION_KINDS)."""
    session = object_session(source)
    if session is None or source.id is None:
        return None
    if source.last_success_at is None:
        return session.scalar(_LAST_REJECTED, {"source_id": source.id})
    since = {"source_id": source.id, "since": source.last_success_at}
    return session.scalar(_LAST_REJECTED_SINCE, since)


_LAST_REJECTED = select(func.max(Quarantine.fetched_at)).where(
    Quarantine.source_id == bindparam("source_id"),
    Quarantine.kind.in_(FAILED_VALIDATION_KINDS),
)
_LAST_REJECTED_SINCE = _LAST_REJECTED.where(Quarantine.fetched_at > bindparam("since"))


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
    with unit_of_work.write(session_factory) as session:
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
    """Whether a crawl of `slug` finishing at or after `since` was recorded (by `record_crawl`)
    with an outcome (a crawl recorded as stopped has none)."""
    with unit_of_work.read(session_factory) as session:
        row = session.scalar(select(Source).where(Source.slug == slug))
        last = (row.last_crawl or {}) if row is not None else {}
    finished = last.get("finished_at")
    if not finished or last.get("stopped"):  # a crawl stopped on purpose is not an outcome
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
