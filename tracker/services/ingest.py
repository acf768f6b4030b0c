"""Ingest fetched pages: parse, keep the raw page, add snapshot and events only on change.

One unit of work (db.unit_of_work.write) per page. The page and the result are in
tracker.services.pages; quarantine and the crawl's own records in tracker.services.crawl_records;
a page in another format than its treaty's history, a cross-check, in tracker.services.format_check.
Imports db and tracker.domain/sources; never Scrapy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Event, IngestReceipt, RawPage, Snapshot, Source, Treaty
from tracker import sources
from tracker.domain.endings import Ending
from tracker.domain.models import TreatyStatus
from tracker.domain.withdrawals import read_withdrawals
from tracker.services import forecasting, format_check, retraction, rule_events, timeline
from tracker.services.crawl_records import later, later_in_sql, note_problem, quarantine
from tracker.services.health import DEFAULT_POLICY, HealthPolicy, apply_health
from tracker.services.pages import FetchedPage, IngestResult
from tracker.services.repository import (
    get_or_create_source,
    latest_snapshot,
    lock_or_insert_treaty,
    store_raw_page,
    upsert_participants,
)
from tracker.services.rule_context import footnotes_of
from tracker.services.timeline import DEFAULT_CONFIRM_AFTER, Observation
from tracker.settings import DEFAULTS
from tracker.sources import registry

SessionFactory = sessionmaker[Session]


def ingest_page(
    session_factory: SessionFactory,
    page: FetchedPage,
    *,
    approaching: int = DEFAULTS.approaching_remaining,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
    receipt: str | None = None,
    health: HealthPolicy = DEFAULT_POLICY,
) -> IngestResult:
    """Parse and store one page in one transaction: accepted, unchanged, quarantined or rejected.

    An accepted page's change events and rule events (see tracker.services.rule_events) are
    written in the same transaction as its snapshot; `approaching` is K for the approaching event.
    `confirm_after` (settings.disappearance_confirm_hours): how long after an absence a fresh
    page must still show it to confirm it (tracker.services.timeline); confirmed absences
    retract the events they show unfounded (tracker.services.retraction).
    With a `receipt` (a spooled page's key) the outcome is recorded under it in that same
    transaction, and a page whose receipt exists is not ingested again (its recorded outcome is
    returned).
    """
    registry.get(page.source)  # UnknownSource (a KeyError) naming the known ones
    # Nothing to look up first without a receipt or an expected treaty: no empty transaction.
    if receipt is not None or page.expected_treaty:
        with unit_of_work.write(session_factory) as session:
            if receipt is not None and (done := session.get(IngestReceipt, receipt)) is not None:
                return IngestResult(
                    done.outcome,  # type: ignore[arg-type]
                    done.treaty,
                    done.snapshot_id,
                    "already ingested (spool receipt)",
                )
            same = _same_bytes_as_latest(session, page)
            if same is not None:
                return _receipted(session, receipt, same)
    try:
        status = sources.parse(
            page.source,
            page.body,
            url=page.url,
            expected_treaty=page.expected_treaty,
            content_type=page.content_type,
        )
    except sources.PageRejected as rejected:
        return _reject_page(session_factory, page, rejected.reason, receipt, health)
    except Exception as crash:  # noqa: BLE001 (a parser bug must not lose the page: keep it for a re-parse)
        reason = f"parser error: {type(crash).__name__}: {crash}"
        return _reject_page(session_factory, page, reason, receipt, health)
    with unit_of_work.write(session_factory) as session:
        result = _ingest_status(session, page, status, approaching, confirm_after, health)
        return _receipted(session, receipt, result)


def _receipted(session: Session, receipt: str | None, result: IngestResult) -> IngestResult:
    if receipt is not None:
        session.add(
            IngestReceipt(
                key=receipt,
                outcome=result.outcome,
                treaty=result.treaty_id,
                snapshot_id=result.snapshot_id,
            )
        )
    return result


# The latest snapshot's id and time only: its data (the whole parsed page) is not needed here,
# nor the treaty's and the source's rows (an unchanged page moves three of their timestamps).
_LATEST_WITH_DIGEST = (
    select(Snapshot.id, Snapshot.observed_at, Treaty.id, Source.id, RawPage.sha256)
    .join(Treaty, Snapshot.treaty_id == Treaty.id)
    .join(Source, Treaty.source_id == Source.id)
    .join(RawPage, Snapshot.raw_page_id == RawPage.id)
    .where(Source.slug == bindparam("slug"), Treaty.external_id == bindparam("external"))
    .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
    .limit(1)
)


# What `later()` and format_check.observed_in_history_format do to the treaty's and the source's
# rows, as two UPDATEs: no row is loaded into the session for a page that changed nothing.
_CHECKED_TREATY = (
    update(Treaty)
    .where(Treaty.id == bindparam("treaty_id"))
    .values(
        last_checked_at=later_in_sql(Treaty.last_checked_at, "fetched"),
        history_observed_at=later_in_sql(Treaty.history_observed_at, "observed"),
    )
)
_CHECKED_SOURCE = (
    update(Source)
    .where(Source.id == bindparam("source_id"))
    .values(last_checked_at=later_in_sql(Source.last_checked_at, "fetched"))
)


def _same_bytes_as_latest(session: Session, page: FetchedPage) -> IngestResult | None:
    """The byte-identical page of the latest snapshot (e.g. a 304) is unchanged: no re-parse.

    It confirms nothing: a copy of a page already seen is not a second observation."""
    if not page.expected_treaty:
        return None  # (a spooled page's receipt may come without one)
    connection = session.connection()  # Core: no row of this page's is loaded into the session
    key = {"slug": page.source, "external": page.expected_treaty}
    row = connection.execute(_LATEST_WITH_DIGEST, key).first()
    if row is None:
        return None
    latest_id, latest_observed, treaty_id, source_id, digest = row
    if digest != page.digest or page.observed < latest_observed:
        return None
    moments = {"fetched": page.fetched_at, "observed": page.observed}
    connection.execute(_CHECKED_TREATY, {"treaty_id": treaty_id, **moments})
    connection.execute(_CHECKED_SOURCE, {"source_id": source_id, "fetched": page.fetched_at})
    return IngestResult("unchanged", page.expected_treaty, latest_id)


def _reject_page(
    session_factory: SessionFactory,
    page: FetchedPage,
    reason: str,
    receipt: str | None = None,
    health: HealthPolicy = DEFAULT_POLICY,
) -> IngestResult:
    with unit_of_work.write(session_factory) as session:
        source = get_or_create_source(session, page.source, page.url)
        quarantine(session, source, page, "rejected_page", reason)
        note_problem(source, reason, page.fetched_at)
        session.flush()
        apply_health(source, page.fetched_at, health)  # failed validation: unhealthy at once
        result = IngestResult("quarantined", page.expected_treaty, None, reason)
        return _receipted(session, receipt, result)


def quarantine_page(
    session_factory: SessionFactory,
    page: FetchedPage,
    reason: str,
    health: HealthPolicy = DEFAULT_POLICY,
) -> IngestResult:
    """Quarantine a fetched page that is not what it must be without parsing it (e.g. a
    catalogue index with no chapter links): kept with its reason, like a rejected status page."""
    return _reject_page(session_factory, page, reason, health=health)


def _withdrawals(
    session: Session, treaty: Treaty, status: TreatyStatus
) -> dict[str, tuple[Ending, ...]]:
    """The page's withdrawals, dated by its footnotes or else by the treaty's withdrawal clause."""
    rule = rule_events.rule_of(session, treaty, status)
    grammar = footnotes_of(session, treaty)
    found = read_withdrawals(status, grammar, rule.withdrawal if rule else None).endings
    return {key: tuple(ends) for key, ends in found.items()}


def _observation(
    page: FetchedPage, status: TreatyStatus, snapshot_id: int, new: bool
) -> Observation:
    return Observation(
        at=page.observed,
        snapshot_id=snapshot_id,
        digest=page.digest,
        fresh=not page.revalidated,
        status_as_at=status.status_as_at,
        new_snapshot=new,
    )


def _settle_absences(
    session: Session,
    treaty: Treaty,
    obs: Observation,
    confirmed: list[Any],
    reappearances: list[tuple[int, list[Any]]],
    current: TreatyStatus | None = None,
) -> tuple[int, bool]:
    """Retract what confirmed absences show unfounded, and rule events computed without
    deposits that are now back; tell of returns. Returns (events, a rule event was retracted)."""
    confirmations = rule_events.confirmations(session, treaty.id)
    done = retraction.retract_unfounded(session, treaty, confirmed, obs, confirmations)
    events, rule_retracted = done.events, bool(done.rule_events)
    for event_id, returned in reappearances:
        event = session.get_one(Event, event_id)
        retraction.notify_return(session, event, returned, obs.at)
        events += retraction.retract_returned_revocations(session, returned, obs).events
        if current is not None:
            again = retraction.recheck_after_return(
                session, treaty, current, returned, obs, confirmations
            )
            events += again.events
            rule_retracted = rule_retracted or bool(again.rule_events)
    return events, rule_retracted


def _ingest_status(
    session: Session,
    page: FetchedPage,
    status: TreatyStatus,
    approaching: int,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
    health: HealthPolicy = DEFAULT_POLICY,
) -> IngestResult:
    source = get_or_create_source(session, page.source, page.url)
    # A treaty first seen now starts as this page leaves it below (no UPDATE after its INSERT).
    first = {
        "url": page.url,
        "last_checked_at": page.fetched_at,
        "history_observed_at": page.observed,
    }
    treaty, inserted = lock_or_insert_treaty(session, source, status.treaty_id, status.title, first)
    latest = None if inserted else latest_snapshot(session, treaty.id)
    route = format_check.cross_check(session, source, treaty, page, status, latest, health)
    if route.result is not None:  # another format than the history's: a cross-check only
        return route.result
    observed = page.observed
    if latest is not None and observed < latest.observed_at:
        reason = (
            f"older than the latest snapshot (observed {latest.observed_at.isoformat()}); "
            "ingest archives in date order"
        )
        quarantine(session, source, page, "out_of_order", reason)
        return IngestResult("rejected", status.treaty_id, None, reason)
    treaty.last_checked_at = later(treaty.last_checked_at, page.fetched_at)
    source.last_checked_at = later(source.last_checked_at, page.fetched_at)
    format_check.observed_in_history_format(treaty, page)
    data = status.to_dict()
    content_hash = status.content_hash(data)
    if latest is not None and latest.content_hash == content_hash:
        obs = _observation(page, status, latest.id, new=False)
        confirmed = timeline.confirm_absences(session, treaty.id, status, obs, confirm_after)
        events = 0
        if confirmed:
            events, rule_retracted = _settle_absences(session, treaty, obs, confirmed, [])
            if rule_retracted:  # a genuine crossing the latest snapshot shows fires again
                again = rule_events.evaluate_treaty(
                    session, treaty, now=observed, approaching=approaching, snapshot=latest
                )
                events += len(again.created)
        return IngestResult("unchanged", status.treaty_id, latest.id, None, events)
    treaty.title, treaty.url = status.title, page.url
    snapshot = Snapshot(
        treaty_id=treaty.id,
        raw_page_id=store_raw_page(session, page.body, page.content_type, page.digest),
        content_hash=content_hash,
        fetched_at=page.fetched_at,
        observed_at=observed,
        status_as_at=status.status_as_at,
        url=page.url,
        data=data,
        signatories=status.signatories,
        parties=status.parties,
        published_signatories=status.published_signatories,
        published_parties=status.published_parties,
        in_force=status.in_force,
        eif_date=status.eif_date,
    )
    session.add(snapshot)
    session.flush()
    ids = upsert_participants(session, status.participants)
    timeline.sync_actions(session, treaty.id, snapshot.id, status, ids, observed, latest is None)
    events = 0
    if latest is not None:  # the first snapshot of a treaty is a baseline: no change events
        previous = TreatyStatus.from_dict(latest.data)
        obs = _observation(page, status, snapshot.id, new=True)
        recorded = timeline.record_changes(
            session,
            treaty.id,
            snapshot.id,
            previous,
            status,
            ids,
            obs,
            confirm_after,
            previous_printed=latest.status_as_at or latest.observed_at,
            endings=_withdrawals(session, treaty, status),
        )
        events = recorded.events
        if recorded.confirmed or recorded.reappearances:
            events += _settle_absences(
                session, treaty, obs, recorded.confirmed, recorded.reappearances, status
            )[0]
    detected = rule_events.evaluate_treaty(
        session, treaty, now=observed, approaching=approaching, snapshot=snapshot, status=status
    )
    # The new latest snapshot's history for the forecasts to come, from this evaluation.
    forecasting.remember_history(session, snapshot, detected.treaty, status, detected.evaluation)
    events += len(detected.created)
    return IngestResult("accepted", status.treaty_id, snapshot.id, route.handover, events)


__all__ = ["FetchedPage", "IngestResult", "ingest_page", "quarantine_page"]
