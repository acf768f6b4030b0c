"""One history per treaty, from its primary format; a page of another format is a cross-check.

A source may print a treaty's status in several formats (UNTC: the ViewDetails HTML page and
the MTDSG XML file, `tracker crawl --format html|xml`). Their content hashes differ on the same
status (titles, column headers, footnotes are printed differently), so ingesting both into one
change-only history would read formatting differences as events. Instead:

- a treaty's **primary format** is the format of its first accepted snapshot (the source's
  `format_of` on that snapshot's raw page): its history (snapshots, actions, events) grows from
  pages of that format only;
- a page of **another format**, once parsed and validated as usual, is compared with what the
  history holds (tracker.domain.format_check.compare_formats). Agreement: the page is
  `unchanged` (it confirms what we hold), and the agreement is recorded (`format_agreements`:
  when, which raw page, which snapshot). Disagreement: the page is quarantined as
  `format_disagreement` with every difference in words, and its source is unhealthy at once,
  like a page that failed validation; it never writes a snapshot, an action or an event.

Which snapshot a cross-check page is compared with, when the two were printed on different
days: a page observed at or after the latest snapshot is compared with the latest snapshot (a
change the primary format has not shown yet is a disagreement: the history learns of changes
from its own format only, at its next crawl, never from the other one). A page observed before
the latest snapshot is compared with the snapshot current at its observation and, failing
that, with the next one: the change between those two happened somewhere in between, so a page
printed in that interval may show either state without disagreeing. A page older than the
treaty's first snapshot has nothing of its time to be compared with: out of order, as an old
archive of the primary format would be. An agreeing cross-check is not a second observation of
the history (it confirms no absence, releases no event): it is another channel, and a
cross-check writes no events at all.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import FormatAgreement, RawPage, Snapshot, Source, Treaty
from db.vocabulary import QuarantineKind
from tracker.domain.format_check import Difference, compare_formats, describe
from tracker.domain.models import TreatyStatus
from tracker.services.crawl_records import later, note_problem, quarantine
from tracker.services.health import HealthPolicy, apply_health
from tracker.services.pages import FetchedPage, IngestResult
from tracker.services.repository import RAW_COMPRESSION, store_raw_page
from tracker.sources import registry

HEAD = 4096  # bytes of a stored page enough to tell its format (the parser's sniffing reads 512)


def _head(body: bytes, compression: str) -> bytes:
    if compression == RAW_COMPRESSION:
        return zlib.decompressobj().decompress(body, HEAD)
    return body[:HEAD]


def primary_format(session: Session, source: str, treaty_id: int) -> str | None:
    """The format of the treaty's first snapshot (None: no snapshot yet)."""
    row = session.execute(
        select(Snapshot.url, RawPage.body, RawPage.compression)
        .join(RawPage, Snapshot.raw_page_id == RawPage.id)
        .where(Snapshot.treaty_id == treaty_id)
        .order_by(Snapshot.observed_at, Snapshot.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    url, body, compression = row
    return registry.get(source).format_of(_head(body, compression), url)


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
) -> IngestResult | None:
    """The outcome of a page whose format is not its treaty's primary one; None when it is,
    or when the treaty has no snapshot yet (the page then belongs to the history: ingested as
    usual). `latest`: the treaty's latest snapshot."""
    if latest is None:
        return None
    fmt = registry.get(page.source).format_of(page.body, page.url)
    primary = primary_format(session, page.source, treaty.id)
    if primary is None or fmt == primary:
        return None
    observed = page.observed
    if observed >= latest.observed_at:
        held: Snapshot | None = latest
        differences = _compare(latest, status, primary, fmt)
        since = (
            f"; the {primary} was last observed {latest.observed_at.isoformat()}: a change since "
            f"then enters the history from the next {primary} page, never from the {fmt}"
        )
    else:
        held = _snapshot_at(session, treaty.id, observed)
        if held is None:
            first = session.get_one(Snapshot, _first_snapshot_id(session, treaty.id))
            reason = (
                f"{fmt} page observed {observed.isoformat()}, before the treaty's first "
                f"{primary} snapshot (observed {first.observed_at.isoformat()}): nothing of its "
                "time to cross-check it with"
            )
            quarantine(session, source, page, QuarantineKind.OUT_OF_ORDER, reason)
            return IngestResult("rejected", status.treaty_id, None, reason)
        differences = _compare(held, status, primary, fmt)
        since = ""
        if differences and (after := _snapshot_after(session, treaty.id, observed)) is not None:
            if not _compare(after, status, primary, fmt):
                held, differences = after, []  # printed after the change, before we saw it
            else:
                since = (
                    f"; it does not agree with the next {primary} snapshot either "
                    f"(observed {after.observed_at.isoformat()})"
                )
    assert held is not None
    if differences:
        found = (held, primary, fmt, differences, since)
        return _disagreement(session, source, page, status, found, health)
    return _agreement(session, source, treaty, page, status, held, primary, fmt)


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
    raw_id = store_raw_page(session, page.body, page.content_type)
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
