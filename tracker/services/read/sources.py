"""The read side of sources (depositaries): their health as `tracker sources`, the API and
the dashboard list it, the figures /metrics and /healthz give, and a source's last crawl."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Event, Source, Treaty
from db.vocabulary import HealthState
from tracker.services.health import (
    DEFAULT_POLICY,
    Health,
    HealthPolicy,
    rejected_since_success,
    source_health,
)
from tracker.services.read.common import iso_or_none


def sources(session: Session) -> list[Source]:
    """Every source row, by slug."""
    return list(session.scalars(select(Source).order_by(Source.slug)))


def source_rows(session: Session) -> list[dict[str, Any]]:
    """Each source and its health, as the API answers them."""
    return [
        {
            "source": s.slug,
            "healthy": s.healthy,
            "base_url": s.base_url,
            "last_checked_at": iso_or_none(s.last_checked_at),
            "last_success_at": iso_or_none(s.last_success_at),
            "consecutive_failures": s.consecutive_failures,
            "last_error": s.last_error,
            "last_crawl": s.last_crawl,
        }
        for s in sources(session)
    ]


def unhealthy_sources(session: Session) -> list[str]:
    """The slugs of the sources that are unhealthy now (after checking the database answers)."""
    session.execute(select(1))
    return list(session.scalars(select(Source.slug).where(Source.healthy.is_(False))))


def metrics_figures(
    session: Session,
) -> tuple[list[tuple[str, bool, int]], int, list[tuple[str, int]]]:
    """What /metrics reads: each source's (slug, healthy, failures in a row), the number of
    treaties, and the number of events per kind."""
    health = [
        (s.slug, bool(s.healthy), int(s.consecutive_failures or 0))
        for s in session.scalars(select(Source))
    ]
    treaties = int(session.scalar(select(func.count(Treaty.id))) or 0)
    events = [
        (kind, int(n))
        for kind, n in session.execute(
            select(Event.kind, func.count(Event.id)).group_by(Event.kind)
        )
    ]
    return health, treaties, events


def last_crawl(session: Session, slug: str) -> dict[str, Any]:
    """The source's last recorded crawl summary ({} when none, or no such source)."""
    return session.scalar(select(Source.last_crawl).where(Source.slug == slug)) or {}


def list_sources(
    session: Session,
    now: datetime,
    policy: HealthPolicy = DEFAULT_POLICY,
    known: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Each source (every row, and each of `known` even before it has one) with its health as
    the rule says at `now` (read-only: the stored flag is refreshed by crawls and the periodic
    job), the reasons, and the alerts' state (`tracker sources`)."""
    rows = {row.slug: row for row in session.scalars(select(Source).order_by(Source.slug))}
    listed = []
    for slug in sorted(set(rows) | set(known)):
        row = rows.get(slug)
        if row is None:
            health = Health(
                False, ["not crawled yet: no crawl recorded, not seen by the service"], pending=True
            )
            listed.append(
                {
                    "slug": slug,
                    "healthy": False,
                    "state": HealthState.PENDING,
                    "reasons": health.reasons,
                    "last_success_at": None,
                    "last_checked_at": None,
                    "consecutive_failures": 0,
                    "last_error": None,
                    "state_since": None,
                    "alerted_state": None,
                }
            )
            continue
        health = source_health(row, now, policy, rejected_since_success(row))
        listed.append(
            {
                "slug": slug,
                "healthy": health.healthy,
                "state": health.state,
                "reasons": health.reasons,
                "last_success_at": iso_or_none(row.last_success_at),
                "last_checked_at": iso_or_none(row.last_checked_at),
                "consecutive_failures": row.consecutive_failures or 0,
                "last_error": row.last_error,
                "state_since": iso_or_none(row.health_state_since)
                if row.health_state == health.state
                else None,
                "alerted_state": row.alert_state,
            }
        )
    return listed
