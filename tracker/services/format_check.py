"""One history per treaty, in one format at a time; a page of another format is a cross-check.

A source may print a treaty's status in several formats (UNTC: the ViewDetails HTML page and
the MTDSG XML file, `tracker crawl --format html|xml`). Their content hashes differ on the same
status (titles, column headers, footnotes are printed differently), and what one format's parse
makes of a cell the other's may make otherwise, so ingesting both, one after the other, into one
change-only history would read formatting differences as events. Instead:

- a treaty's history has one format: that of its first accepted snapshot, and then of its
  latest (the same, unless it was handed over, below). Snapshots, actions and events grow from
  pages of that format only;
- a page of **another format**, parsed and validated as usual, is a cross-check while the
  history's format is live (a page of it observed within `HANDOVER_AFTER` before this one):
  compared with what the history holds (tracker.domain.format_check.compare_formats).
  Agreement: the page is `unchanged` (it confirms what we hold) and the agreement is recorded
  (`format_agreements`: when, which raw page, which snapshot). Disagreement: the page is
  quarantined as `format_disagreement` with every difference in words, and its source is
  unhealthy at once, like a page that failed validation; it writes no snapshot, action or event;
- a page of another format observed more than `HANDOVER_AFTER` after the history's format was
  last observed **hands the history over** to its format: it is ingested as the next snapshot
  (its result says so). That is a backfill across formats, years apart (the 2018 MTDSG XML
  archives, then the 2026 pages: what changed in between are events), never two live formats
  alternating: a format crawled every few hours keeps the other one a cross-check.

Which snapshot a cross-check page is compared with, when the two were printed on different
days: a page observed at or after the latest snapshot is compared with the latest snapshot (a
change the history's format has not shown yet is a disagreement: the history learns of changes
from its own format, at its next crawl, never from a cross-check). A page observed before the
latest snapshot is compared with the snapshot current at its observation and, failing that,
with the next one: the change between those two happened somewhere in between, so a page
printed in that interval may show either state without disagreeing. A page older than the
treaty's first snapshot has nothing of its time to be compared with: out of order, as an old
archive of the history's format would be. An agreeing cross-check is not a second observation
of the history (it confirms no absence, releases no event): a cross-check writes no events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import FormatAgreement, RawPage, Snapshot, Source, Treaty
from db.vocabulary import QuarantineKind
from tracker.domain.format_check import Difference, compare_formats, describe
from tracker.domain.models import TreatyStatus
from tracker.services.crawl_records import later, note_problem, quarantine
from tracker.services.health import HealthPolicy, apply_health
from tracker.services.pages import FetchedPage, IngestResult
from tracker.services.repository import raw_head, store_raw_page
from tracker.sources import registry

HEAD = 4096  # bytes of a stored page enough to tell its format (the parser's sniffing reads 512)
# A history's format not observed for this long before a page of another format is no longer
# live: that page continues the history in its own format. Far above the service's crawl
# interval (6 h) and an outage of days; far below the years between archives.
HANDOVER_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class Route:
    """Where a page of a treaty with a history goes: `result`, the outcome of a cross-check;
    None, into the history (then `handover` says why it changes the history's format)."""

    result: IngestResult | None = None
    handover: str | None = None


def history_format(session: Session, source: str, treaty_id: int) -> str | None:
    """The format of the treaty's history: its latest snapshot's (None: no snapshot yet)."""
    row = session.execute(
        select(Snapshot.url, RawPage.body, RawPage.compression)
        .join(RawPage, Snapshot.raw_page_id == RawPage.id)
        .where(Snapshot.treaty_id == treaty_id)
        .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    url, body, compression = row
    return registry.get(source).format_of(raw_head(compression, body, HEAD), url)


def observed_in_history_format(treaty: Treaty, page: FetchedPage) -> None:
    """A page of the history's format was observed (accepted or unchanged)."""
    treaty.history_observed_at = later(treaty.history_observed_at or page.observed, page.observed)


def _snapshot_at(session: Session, treaty_id: int, moment: datetime) -> Snapshot | None:
    """The snapshot current at `moment`: the latest observed at or before it."""
    return session.scalars(
        select(Snapshot)
        .where(Snapshot.treaty_id == treaty_id, Snapshot.observed_at <= moment)
        .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()


def _snapshot_after(session: Session, treaty_id: int, moment: datetime) -> Snapshot | None:
    return session.scalars(
        select(Snapshot)
        .where(Snapshot.treaty_id == treaty_id, Snapshot.observed_at > moment)
        .order_by(Snapshot.observed_at, Snapshot.id)
        .limit(1)
    ).first()


def _compare(snapshot: Snapshot, status: TreatyStatus, held: str, fmt: str) -> list[Difference]:
    stored = TreatyStatus.from_dict(snapshot.data)
    return list(compare_formats(stored, status, held_format=held, other_format=fmt))


def cross_check(
    session: Session,
    source: Source,
    treaty: Treaty,
    page: FetchedPage,
    status: TreatyStatus,
    latest: Snapshot | None,
    health: HealthPolicy,
) -> Route:
    """Where a page goes: into the history (its format is the history's, the treaty has no
    snapshot yet, or it hands the history over), or a cross-check's outcome. `latest`: the
    treaty's latest snapshot."""
    if latest is None:
        return Route()
    fmt = registry.get(page.source).format_of(page.body, page.url)
    held_format = history_format(session, page.source, treaty.id)
    if held_format is None or fmt == held_format:
        return Route()
    observed = page.observed
    if observed >= latest.observed_at:
        seen = max(treaty.history_observed_at or latest.observed_at, latest.observed_at)
        if observed - seen > HANDOVER_AFTER:
            return Route(
                handover=f"the history passes from {held_format} to {fmt}: its {held_format} "
                f"pages were last observed {seen.isoformat()}, over {HANDOVER_AFTER.days} days "
                "before this page"
            )
        held: Snapshot | None = latest
        differences = _compare(latest, status, held_format, fmt)
        since = (
            f"; the {held_format} was last observed {seen.isoformat()}: a change since then "
            f"enters the history from the next {held_format} page, never from the {fmt}"
        )
    else:
        held = _snapshot_at(session, treaty.id, observed)
        if held is None:
            first = session.get_one(Snapshot, _first_snapshot_id(session, treaty.id))
            reason = (
                f"older than the latest snapshot (observed {latest.observed_at.isoformat()}); "
                f"ingest archives in date order (a {fmt} page observed {observed.isoformat()}, "
                f"before the treaty's first {held_format} snapshot, observed "
                f"{first.observed_at.isoformat()}: nothing of its time to cross-check it with)"
            )
            quarantine(session, source, page, QuarantineKind.OUT_OF_ORDER, reason)
            return Route(IngestResult("rejected", status.treaty_id, None, reason))
        differences = _compare(held, status, held_format, fmt)
        since = ""
        if differences and (after := _snapshot_after(session, treaty.id, observed)) is not None:
            if not _compare(after, status, held_format, fmt):
                held, differences = after, []  # printed after the change, before we saw it
            else:
                since = (
                    f"; it does not agree with the next {held_format} snapshot either "
                    f"(observed {after.observed_at.isoformat()})"
                )
    assert held is not None
    if differences:
        found = (held, held_format, fmt, differences, since)
        return Route(_disagreement(session, source, page, status, found, health))
    return Route(_agreement(session, source, treaty, page, status, held, held_format, fmt))


def _first_snapshot_id(session: Session, treaty_id: int) -> int:
    return session.scalars(
        select(Snapshot.id)
        .where(Snapshot.treaty_id == treaty_id)
        .order_by(Snapshot.observed_at, Snapshot.id)
        .limit(1)
    ).one()


def _agreement(
    session: Session,
    source: Source,
    treaty: Treaty,
    page: FetchedPage,
    status: TreatyStatus,
    held: Snapshot,
    primary: str,
    fmt: str,
) -> IngestResult:
    raw_id = store_raw_page(session, page.body, page.content_type, page.digest)
    row = session.scalar(
        select(FormatAgreement).where(
            FormatAgreement.treaty_id == treaty.id,
            FormatAgreement.snapshot_id == held.id,
            FormatAgreement.raw_page_id == raw_id,
        )
    )
    if row is None:
        session.add(
            FormatAgreement(
                treaty_id=treaty.id,
                snapshot_id=held.id,
                raw_page_id=raw_id,
                format=fmt,
                primary_format=primary,
                url=page.url,
                observed_at=page.observed,
                first_checked_at=page.fetched_at,
                last_checked_at=page.fetched_at,
                checks=1,
            )
        )
    else:
        row.checks += 1
        row.url = page.url
        row.observed_at = later(row.observed_at, page.observed)
        row.last_checked_at = later(row.last_checked_at, page.fetched_at)
    treaty.last_checked_at = later(treaty.last_checked_at, page.fetched_at)
    source.last_checked_at = later(source.last_checked_at, page.fetched_at)
    why = f"cross-check: the {fmt} page agrees with the {primary} history (snapshot {held.id})"
    return IngestResult("unchanged", status.treaty_id, held.id, why, 0)


def _disagreement(
    session: Session,
    source: Source,
    page: FetchedPage,
    status: TreatyStatus,
    found: tuple[Snapshot, str, str, list[Difference], str],
    health: HealthPolicy,
) -> IngestResult:
    held, primary, fmt, differences, since = found
    reason = (
        f"format disagreement: the {fmt} page says otherwise than the treaty's {primary} history "
        f"(snapshot {held.id}, observed {held.observed_at.isoformat()}): "
        f"{describe(differences)}{since}"
    )
    quarantine(session, source, page, QuarantineKind.FORMAT_DISAGREEMENT, reason)
    note_problem(source, reason, page.fetched_at)
    session.flush()
    apply_health(source, page.fetched_at, health)  # as a page failing validation: at once
    return IngestResult("quarantined", status.treaty_id, None, reason)
