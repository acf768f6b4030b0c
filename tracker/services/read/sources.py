"""The read side of sources (depositaries): their health as listed by the API and the
dashboard, the figures /metrics and /healthz give, and a source's last recorded crawl."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Event, Source, Treaty
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
