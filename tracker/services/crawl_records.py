"""What a crawl records besides its pages: a page kept in quarantine with its reason, a failed
fetch, and the crawl's outcome on its source (the failure streak, health: tracker.services.health).
Each writer runs its own unit of work (db.unit_of_work.write)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Quarantine, Source
from tracker.services.health import DEFAULT_POLICY, Health, HealthPolicy, apply_health, lock_source
from tracker.services.pages import FetchedPage, require_aware
from tracker.services.repository import store_raw_page

SessionFactory = sessionmaker[Session]


_QUARANTINED = (
    select(Quarantine.id)
    .where(
        Quarantine.source_id == bindparam("source_id"),
        Quarantine.fetched_at == bindparam("fetched_at"),
        Quarantine.url == bindparam("url"),
        Quarantine.kind == bindparam("kind"),
        Quarantine.reason == bindparam("reason"),
    )
    .limit(1)
)


def quarantine(session: Session, source: Source, page: FetchedPage, kind: str, reason: str) -> None:
    """Keep the page with its reason; the same fetch quarantined again (the same URL, fetch
    time, kind and reason, e.g. a spooled page recovered twice) adds nothing."""
    fetch = {
        "source_id": source.id,
        "fetched_at": page.fetched_at,
        "url": page.url,
        "kind": kind,
        "reason": reason,
    }
    if session.scalar(_QUARANTINED, fetch) is not None:
        return
    raw_id = (
        store_raw_page(session, page.body, page.content_type, page.digest) if page.body else None
    )
    session.add(
        Quarantine(
            source_id=source.id,
            kind=kind,
            url=page.url,
            expected_treaty=page.expected_treaty,
            reason=reason,
            raw_page_id=raw_id,
            fetched_at=page.fetched_at,
            observed_at=page.observed_at,
        )
    )


def later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def later_in_sql(column: Any, moment: str) -> Any:
    """`later(column, :moment)` as an SQL expression, for an UPDATE that loads no row (the
    bound parameter `moment` of the column's type)."""
    at = bindparam(moment, type_=column.type)
    return case((or_(column.is_(None), column < at), at), else_=column)


def note_problem(source: Source, reason: str, at: datetime) -> None:
    """A page failed: keep the reason as the source's last error. Health is decided per crawl
    (`record_crawl`, tracker.services.health), never by a single page."""
    source.last_error = reason
    source.last_checked_at = later(source.last_checked_at, at)


def record_crawl(
    session_factory: SessionFactory,
    source: str,
    stats: dict[str, Any],
    ok: bool,
    error: str | None,
    at: datetime,
    *,
    policy: HealthPolicy = DEFAULT_POLICY,
    stopped: bool = False,
) -> Health:
    """Record a finished crawl on the source row: stats, failure streak, last success, health.

    A good crawl (`ok`) resets the streak and makes the source healthy again; a failed or
    quarantined one adds one to the streak; `healthy` is then the rule of
    tracker.services.health (unhealthy after `policy.unhealthy_after` bad crawls in a row, or
    when the last good crawl is older than `policy.freshness`, or when it never succeeded).
    A crawl `stopped` on purpose before its end (SIGTERM, the service stopping, its parent
    gone) is kept as the last crawl but is neither a success nor a failure. Returns the verdict.
    """
    require_aware("at", at)
    with unit_of_work.write(session_factory) as session:
        row = lock_source(session, source)
        row.last_crawl = {**stats, "ok": ok, "error": error, "finished_at": at.isoformat()}
        if stopped:
            row.last_crawl["stopped"] = row.last_crawl.get("stopped") or error or "stopped"
        elif ok:
            row.consecutive_failures, row.last_success_at, row.last_error = 0, at, None
        else:
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.last_error = error or "crawl failed"
        if not stopped:
            row.last_checked_at = at
        return apply_health(row, at, policy, crawl=not stopped)


def record_fetch_failure(
    session_factory: SessionFactory,
    source: str,
    url: str,
    reason: str,
    at: datetime,
    body: bytes | None = None,
    expected_treaty: str | None = None,
) -> None:
    """Keep a failed response in quarantine and note its reason as the source's last error.

    It does not change `healthy`: the page's crawl counts as one failed crawl when it ends
    (`record_crawl`), and health follows the N-consecutive-crawls rule, not single pages.
    """
    page = FetchedPage(source, url, body or b"", at, None, expected_treaty)
    with unit_of_work.write(session_factory) as session:
        row = lock_source(session, source, url)
        quarantine(session, row, page, "fetch_failure", reason)
        note_problem(row, reason, at)
