"""The spool: fetched pages that could not be stored (the database failed), kept on disk until
they are.

One JSON file per page in `Settings.spool_dir`, written atomically (a temporary file, fsync,
rename): the page's URL, fetch time, observation time, expected treaty, content type,
`revalidated` flag, the reason it was spooled and its raw body (base64, with its SHA-256).
A file's name starts with the fetch time (UTC), so name order is fetch order.

Recovery (`recover_spool`: at the start of every crawl, and `tracker ingest --spool`) ingests
the files oldest first with their original fetch time, each under a receipt (its digest) written
in the same transaction as its outcome, and deletes a file only once its page was stored. It is
idempotent: a file recovered twice (a crash between the commit and the delete, or two
recoverers) is ingested once. Recovery stops at the first database error and leaves the rest;
a file it cannot read or ingest is left in place, reported, and skipped.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from db.engine import one_line
from tracker.services.health import DEFAULT_POLICY, HealthPolicy
from tracker.services.ingest import FetchedPage, IngestResult, SessionFactory, ingest_page
from tracker.services.timeline import DEFAULT_CONFIRM_AFTER
from tracker.settings import DEFAULTS

SPOOL_VERSION = 1
SUFFIX = ".json"
T = TypeVar("T")


class SpoolError(ValueError):
    """A spool file that cannot be read back (truncated, edited, not a spool file)."""


@dataclass(frozen=True)
class SpooledPage:
    path: Path
    key: str  # the receipt: SHA-256 of the source, URL, fetch time and body
    page: FetchedPage
    reason: str
    spooled_at: datetime


def _key(page: FetchedPage) -> str:
    digest = hashlib.sha256()
    for part in (page.source, page.url, page.fetched_at.astimezone(UTC).isoformat()):
        digest.update(part.encode() + b"\0")
    digest.update(page.body)
    return digest.hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def spool_page(spool_dir: Path, page: FetchedPage, reason: str) -> Path:
    """Write `page` to the spool atomically and return its file (the same page twice: one file)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    key = _key(page)
    stamp = page.fetched_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = spool_dir / f"{stamp}-{key[:20]}{SUFFIX}"
    record = {
        "version": SPOOL_VERSION,
        "key": key,
        "source": page.source,
        "url": page.url,
        "fetched_at": _iso(page.fetched_at),
        "observed_at": _iso(page.observed_at),
        "expected_treaty": page.expected_treaty,
        "content_type": page.content_type,
        "revalidated": page.revalidated,
        "reason": reason,
        "spooled_at": datetime.now(UTC).isoformat(),
        "sha256": page.digest,
        "body": base64.b64encode(page.body).decode("ascii"),
    }
    tmp = spool_dir / f".{final.name}.{os.getpid()}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(record, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    dir_fd = os.open(spool_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    return final


def _time(record: dict[str, Any], name: str, required: bool = True) -> datetime | None:
    value = record.get(name)
    if value is None and not required:
        return None
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise SpoolError(f"{name} has no time zone")
    return when


def read_spooled(path: Path) -> SpooledPage:
    """Read one spool file back; SpoolError when it is not a whole, unaltered spool file."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("version") != SPOOL_VERSION:
            raise SpoolError(f"unknown spool version {record.get('version')!r}")
        body = base64.b64decode(record["body"], validate=True)
        if hashlib.sha256(body).hexdigest() != record["sha256"]:
            raise SpoolError("body does not match its SHA-256")
        fetched_at = _time(record, "fetched_at")
        assert fetched_at is not None
        page = FetchedPage(
            source=record["source"],
            url=record["url"],
            body=body,
            fetched_at=fetched_at,
            observed_at=_time(record, "observed_at", required=False),
            expected_treaty=record.get("expected_treaty"),
            content_type=record.get("content_type"),
            revalidated=bool(record.get("revalidated", False)),
        )
        if _key(page) != record["key"]:
            raise SpoolError("key does not match the page")
        spooled_at = _time(record, "spooled_at")
        assert spooled_at is not None
        return SpooledPage(path, record["key"], page, str(record.get("reason") or ""), spooled_at)
    except SpoolError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SpoolError(f"{type(error).__name__}: {error}") from None


def spool_files(spool_dir: Path) -> list[Path]:
    """The spool's page files, oldest fetch first (temporary files are not pages yet)."""
    if not spool_dir.is_dir():
        return []
    return sorted(
        p
        for p in spool_dir.iterdir()
        if p.name.endswith(SUFFIX) and not p.name.startswith(".") and p.is_file()
    )


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on the file while it is recovered (False: another recoverer has it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield path.exists()  # gone meanwhile: recovered by the other one
    finally:
        os.close(fd)


@dataclass
class Recovery:
    """What one recovery did: pages stored (with their outcome) and files left, with why."""

    recovered: list[tuple[Path, IngestResult]] = field(default_factory=list)
    left: list[tuple[Path, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "recovered": len(self.recovered),
            "left": len(self.left),
            "left_reasons": [f"{path.name}: {why}" for path, why in self.left[:20]],
        }


def recover_spool(
    session_factory: SessionFactory,
    spool_dir: Path,
    *,
    approaching: int = DEFAULTS.approaching_remaining,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
    health: HealthPolicy = DEFAULT_POLICY,
    retries: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    on_page: Callable[[SpooledPage, IngestResult], None] | None = None,
) -> Recovery:
    """Ingest every spooled page, oldest first; delete each file once its page is stored."""
    done = Recovery()
    files = spool_files(spool_dir)
    for index, path in enumerate(files):
        with _claimed(path) as mine:
            if not mine:
                continue
            try:
                spooled = read_spooled(path)
            except SpoolError as bad:
                done.left.append((path, f"unreadable: {bad}"))
                continue
            try:
                result = with_retries(
                    functools.partial(
                        ingest_page,
                        session_factory,
                        spooled.page,
                        approaching=approaching,
                        confirm_after=confirm_after,
                        receipt=spooled.key,
                        health=health,
                    ),
                    retries,
                    sleep,
                )
            except SQLAlchemyError as error:  # the database is down: stop, keep the rest
                why = f"database error: {one_line(error)}"
                done.left.extend((p, why) for p in files[index:])
                return done
            except Exception as error:  # noqa: BLE001 (a bug ingesting this page: keep it, go on)
                done.left.append((path, f"ingest error: {type(error).__name__}: {error}"))
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            done.recovered.append((path, result))
            if on_page is not None:
                on_page(spooled, result)
    return done


def with_retries(
    action: Callable[[], T],
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, SQLAlchemyError], None] | None = None,
) -> T:
    """Run `action`, retrying it up to `retries` times on a database error with a short backoff
    (0.5 s, 1 s, 2 s, ... at most 5 s); the last error propagates. `on_retry(attempt, error)`
    is told of each error that is retried (attempt 0 is the first try)."""
    for attempt in range(retries + 1):
        try:
            return action()
        except SQLAlchemyError as error:
            if attempt == retries:
                raise
            if on_retry is not None:
                on_retry(attempt, error)
            sleep(backoff(attempt))
    raise AssertionError("unreachable")


def backoff(attempt: int) -> float:
    """The wait before retry number `attempt + 1` of a database operation."""
    return min(5.0, 0.5 * 2.0**attempt)
