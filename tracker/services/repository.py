"""Row lookups and idempotent inserts over db.models for the services (no commits here)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import zstandard
from sqlalchemy import Insert, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from db.driver_sql import DriverSQL
from db.models import Participant as ParticipantRow
from db.models import RawPage, Snapshot, Source, Treaty
from tracker.domain.models import Participant

# How a raw page is stored: zstd (level 3: about 1 ms for a 460 KB status page, against 14 ms
# for zlib level 6, and a smaller result). Pages stored before 2026-12-02 are zlib; each row
# names its codec, and every reader goes through `raw_body`/`raw_head`.
RAW_COMPRESSION = "zstd"
_ZSTD_LEVEL = 3


def compress_raw(body: bytes) -> bytes:
    """The stored form of a raw page (RAW_COMPRESSION)."""
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(body)


def raw_body(compression: str, stored: bytes) -> bytes:
    """A stored raw page's original bytes (ValueError: a codec this tracker never wrote)."""
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(stored)
    if compression == "zlib":
        return zlib.decompress(stored)
    raise ValueError(f"raw page stored with an unknown compression {compression!r}")


def raw_head(compression: str, stored: bytes, size: int) -> bytes:
    """At most `size` of the first bytes of a stored raw page, decompressing little more than
    that (zstd: the first block)."""
    if size <= 0:
        return b""
    if compression == "zstd":
        with zstandard.ZstdDecompressor().stream_reader(stored) as reader:
            return reader.read(size)
    if compression == "zlib":
        return zlib.decompressobj().decompress(stored, size)
    raise ValueError(f"raw page stored with an unknown compression {compression!r}")


def table_of(model: type[Any]) -> Table:
    """Return the Core table of a mapped class (for executemany statements on hot paths)."""
    return cast(Table, model.__table__)


def insert_ignoring_conflicts(
    session: Session, model: type[Any], index: Sequence[str], *, orm: bool = False
) -> Insert:
    """Build an INSERT that skips rows conflicting on the unique `index` (PostgreSQL, SQLite);
    `orm`: of the mapped class, so that its RETURNING can give ORM objects (else a Core insert of
    its table: no ORM bulk machinery on the hot path)."""
    return _ignoring_conflicts(session.get_bind().dialect.name, model, tuple(index), orm)


def _ignoring_conflicts(
    dialect: str, model: type[Any], index: tuple[str, ...], orm: bool
) -> Insert:
    target = model if orm else table_of(model)
    if dialect == "postgresql":
        return postgresql.insert(target).on_conflict_do_nothing(index_elements=list(index))
    if dialect == "sqlite":
        return sqlite.insert(target).on_conflict_do_nothing(index_elements=list(index))
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


S = TypeVar("S")
_PREPARED: dict[tuple[str, str], Any] = {}


def prepared(session: Session, name: str, build: Callable[[str], S]) -> S:
    """The statement `name`, built by `build(dialect name)` once per dialect and kept, so that
    its construction and its cache key are computed once: a hot path passes its values as
    parameters (bindparam) instead of building a statement per call."""
    key = (session.get_bind().dialect.name, name)
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = build(key[0])
    return cast(S, found)


@cache
def _rows_insert(table: Table, columns: tuple[str, ...]) -> DriverSQL:
    """The INSERT of `columns` of `table`, its parameters named by them."""
    return DriverSQL(insert(table), column_keys=columns, for_executemany=True)


def insert_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT `rows` (each its values in `columns` order) into `table` by the driver's
    executemany (db.driver_sql), each value bound as its column's type binds it on this
    dialect: the rows that `session.execute(insert(table), dicts)` stores, without SQLAlchemy's
    parameter dict and processing per row."""
    _rows_insert(table, columns).execute_many(session.connection(), columns, rows)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


_SOURCE_BY_SLUG = select(Source).where(Source.slug == bindparam("slug"))


def get_or_create_source(session: Session, slug: str, url: str | None = None) -> Source:
    """Return the source row for `slug`, inserting it on first sight."""
    source = session.scalar(_SOURCE_BY_SLUG, {"slug": slug})
    if source is None:
        base_url = _origin(url) if url else None
        values = {  # not healthy until a crawl succeeded (tracker.services.health)
            "slug": slug,
            "base_url": base_url,
            "healthy": False,
            "consecutive_failures": 0,
            "health_state_crawls": 0,
            "alert_state_crawls": 0,
        }
        session.execute(insert_ignoring_conflicts(session, Source, ["slug"]).values(**values))
        source = session.scalars(_SOURCE_BY_SLUG, {"slug": slug}).one()
    return source


def source_slug(session: Session, source_id: int) -> str | None:
    """The slug of the source with this id (None: no such source); read from the session's
    identity map, with no query, when the source is loaded already (the ingest's is)."""
    source = session.get(Source, source_id)
    return source.slug if source is not None else None


def lock_treaty(session: Session, source: Source, external_id: str, title: str) -> Treaty:
    """Return the treaty row (inserted on first sight), locked FOR UPDATE on PostgreSQL."""
    return lock_or_insert_treaty(session, source, external_id, title)[0]


_TREATY_FOR_UPDATE = (
    select(Treaty)
    .where(Treaty.source_id == bindparam("source_id"), Treaty.external_id == bindparam("external"))
    .with_for_update()
)


def lock_or_insert_treaty(
    session: Session,
    source: Source,
    external_id: str,
    title: str,
    first: Mapping[str, Any] | None = None,
) -> tuple[Treaty, bool]:
    """`lock_treaty`, and whether this call inserted the row (then the treaty has nothing yet:
    no snapshot, no event). A row inserted by this transaction is its own on PostgreSQL (locked
    by the insert); one another writer inserted first is read and locked. `first`: other
    columns' values for a row inserted now (what the caller sets on a new treaty at once: set
    again to the same values, they need no UPDATE)."""
    key = {"source_id": source.id, "external": external_id}
    treaty = session.scalar(_TREATY_FOR_UPDATE, key)
    if treaty is not None:
        return treaty, False
    values = {**(first or {}), "source_id": source.id, "external_id": external_id, "title": title}
    columns = tuple(values)
    stmt = prepared(
        session, f"treaties.insert{columns}", lambda dialect: _insert_treaty(dialect, columns)
    )
    inserted = session.scalars(stmt, values).first()
    if inserted is not None:
        return inserted, True
    return session.scalars(_TREATY_FOR_UPDATE, key).one(), False


def _insert_treaty(dialect: str, columns: tuple[str, ...]) -> ReturningInsert[Treaty]:
    """INSERT a treaty (these columns' values as parameters) unless it exists; RETURNING it."""
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    stmt = _ignoring_conflicts(dialect, Treaty, ("source_id", "external_id"), orm=True)
    return stmt.values(**values).returning(Treaty)


_LATEST_SNAPSHOT = (
    select(Snapshot)
    .where(Snapshot.treaty_id == bindparam("treaty_id"))
    .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
    .limit(1)
)


def latest_snapshot(session: Session, treaty_id: int) -> Snapshot | None:
    """Return the latest snapshot of a treaty (by observation time, then insertion order)."""
    return session.scalars(_LATEST_SNAPSHOT, {"treaty_id": treaty_id}).first()


_RAW_PAGE_ID = select(RawPage.id).where(RawPage.sha256 == bindparam("digest"))


def store_raw_page(
    session: Session, body: bytes, content_type: str | None, digest: str | None = None
) -> int:
    """Store `body` compressed once per sha256 and return its raw_pages id (`digest`: the
    body's sha256 when the caller already has it)."""
    digest = digest or hashlib.sha256(body).hexdigest()
    found = session.scalar(_RAW_PAGE_ID, {"digest": digest})
    if found is not None:
        return found
    values = {
        "sha256": digest,
        "compression": RAW_COMPRESSION,
        "body": compress_raw(body),
        "size": len(body),
        "content_type": content_type,
    }
    stmt = prepared(session, "raw_pages.insert", _insert_raw_page)
    inserted = session.scalar(stmt, values)
    return (
        inserted
        if inserted is not None
        else session.scalars(_RAW_PAGE_ID, {"digest": digest}).one()
    )


def _insert_raw_page(dialect: str) -> ReturningInsert[int]:
    table = table_of(RawPage)
    return _ignoring_conflicts(dialect, RawPage, ("sha256",), orm=False).returning(table.c.id)


_PARTICIPANT_TABLE = table_of(ParticipantRow)
_PARTICIPANTS_KNOWN = select(
    _PARTICIPANT_TABLE.c.key,
    _PARTICIPANT_TABLE.c.id,
    _PARTICIPANT_TABLE.c.name,
    _PARTICIPANT_TABLE.c.iso3,
    _PARTICIPANT_TABLE.c.reio,
).where(_PARTICIPANT_TABLE.c.key.in_(bindparam("keys", expanding=True)))


def upsert_participants(session: Session, participants: Iterable[Participant]) -> dict[str, int]:
    """Ensure a participants row per key (latest printed name wins); return key -> id."""
    latest = {p.key: p for p in participants}
    if not latest:
        return {}
    table = table_of(ParticipantRow)
    known = session.execute(_PARTICIPANTS_KNOWN, {"keys": list(latest)})
    existing = {key: (pid, (name, iso3, reio)) for key, pid, name, iso3, reio in known}
    missing = [
        {"key": k, "iso3": p.iso3, "name": p.name, "reio": p.reio}
        for k, p in sorted(latest.items())  # one lock order for concurrent writers
        if k not in existing
    ]
    if missing:
        insert_missing = prepared(
            session,
            "participants.insert",
            lambda dialect: _ignoring_conflicts(dialect, ParticipantRow, ("key",), orm=False),
        )
        session.execute(insert_missing, missing)
    renamed = [
        {"row_id": pid, "new_name": p.name, "new_iso3": p.iso3, "new_reio": p.reio}
        for key, (pid, printed) in sorted(existing.items())
        if printed != ((p := latest[key]).name, p.iso3, p.reio)
    ]
    if renamed:
        stmt = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                name=bindparam("new_name"), iso3=bindparam("new_iso3"), reio=bindparam("new_reio")
            )
        )
        session.execute(stmt, renamed)
    ids = {key: pid for key, (pid, _) in existing.items()}
    if missing:
        ids.update(participant_ids(session, [str(row["key"]) for row in missing]))
    return ids


def participant_ids(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Map participant keys to their row ids (unknown keys are left out)."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    return dict(session.execute(_PARTICIPANT_IDS, {"keys": wanted}).all())


_PARTICIPANT_IDS = select(ParticipantRow.key, ParticipantRow.id).where(
    ParticipantRow.key.in_(bindparam("keys", expanding=True))
)


def aware(moment: datetime) -> datetime:
    """`moment` with its zone; a naive one (read back from JSON details) is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
