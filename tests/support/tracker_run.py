"""Drive the tracker as an operator does, and read back what it did, for the fault-injection suite.

- `crawl(...)` runs `tracker crawl --base-url URL` as a real subprocess (the command starts its
  own Scrapy child), with short timeouts; `start_crawl` / `start_ingest` return the process for
  tests that kill it.
- `cli(...)` runs any other `tracker` command (`subscribe`, `dispatch`, `status --json`,
  `history --json`) through `tracker.cli.main` in this process, with the given environment: the
  same code as the command line, without a second of interpreter start-up per call.
- `read_summary(...)` is the ONE place that reads a crawl's summary (its JSON as recorded on the
  source row, else the printed line): adapt it when the summary's format changes.
- `page_outcomes(...)` says, from the database alone, what became of each status page of a crawl:
  accepted, unchanged, quarantined, failed, or nothing at all ("lost").
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from db.engine import session_factory_for
from db.models import Quarantine, Snapshot, Source, Treaty
from db.vocabulary import SOURCE_EVENT_KINDS
from tracker.sources import registry

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.0/8"
OUTCOMES = ("accepted", "unchanged", "quarantined", "failed")
LOST = "lost"  # a page that ended as none of the outcomes


def base_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean TRACKER_* environment: this database and data dir, short timeouts, no retries,
    no politeness delay, loopback webhooks allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATABASE_URL": db_url,
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_DOWNLOAD_TIMEOUT": "2",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_CONCURRENCY": "4",
        "TRACKER_CRAWL_TIMEOUT": "90",
        "TRACKER_MAX_RESPONSE_SIZE": str(256 * 1024),
        "TRACKER_LOG_LEVEL": "WARNING",
        "TRACKER_LOG_FORMAT": "text",
        "TRACKER_WEBHOOK_ALLOWLIST": LOOPBACK,
        # Every other source to a dead loopback port: no test reaches a real depositary.
        "TRACKER_BASE_URLS": json.dumps(
            {slug: "http://127.0.0.1:9" for slug in registry.slugs() if slug != "untc"}
        ),
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


# --- running commands -------------------------------------------------------------------------


@dataclass
class CrawlRun:
    """A finished `tracker crawl`."""

    exit: int
    stdout: str
    stderr: str
    started_at: datetime  # wall clock, before the command started
    started: float  # time.monotonic() at the same moment
    seconds: float

    def tail(self, lines: int = 15) -> str:
        err = "\n".join(self.stderr.strip().splitlines()[-lines:])
        return f"exit {self.exit}; stdout: {self.stdout.strip()!r}; stderr tail:\n{err}"


def crawl_command(base_url: str, treaties: Iterable[str] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "tracker.cli", "crawl", "--source", "untc", "--base-url", base_url]
    for treaty in treaties:
        cmd += ["--treaty", treaty]
    return cmd


def crawl(
    env: Mapping[str, str], base_url: str, treaties: Iterable[str] = (), timeout: float = 120
) -> CrawlRun:
    """`tracker crawl --base-url URL` in a subprocess, waited for."""
    started_at, started = datetime.now(UTC), time.monotonic()
    done = subprocess.run(
        crawl_command(base_url, treaties),
        env=dict(env),
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CrawlRun(
        done.returncode, done.stdout, done.stderr, started_at, started, time.monotonic() - started
    )


@dataclass
class RunningCrawl:
    """A `tracker crawl` started in the background (for tests that kill or outlast it)."""

    proc: subprocess.Popen[str]
    started_at: datetime
    started: float

    def wait(self, timeout: float = 120) -> CrawlRun:
        out, err = self.proc.communicate(timeout=timeout)
        return CrawlRun(
            self.proc.returncode,
            out,
            err,
            self.started_at,
            self.started,
            time.monotonic() - self.started,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()


def start_crawl(env: Mapping[str, str], base_url: str) -> RunningCrawl:
    started_at, started = datetime.now(UTC), time.monotonic()
    proc = subprocess.Popen(
        crawl_command(base_url),
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return RunningCrawl(proc, started_at, started)


def start_ingest(env: Mapping[str, str], files: Iterable[Path]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "tracker.cli", "ingest", "--source", "untc", *map(str, files)]
    return subprocess.Popen(
        cmd,
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def cli(env: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    """Run `tracker ARGS` through `tracker.cli.main` in this process: (status, stdout, stderr)."""
    from tracker.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _ENV_LOCK, _environ(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def status(env: Mapping[str, str], treaty: str) -> dict[str, Any] | None:
    """`tracker status ID --json` (None when the tracker knows no snapshot of it)."""
    code, out, err = cli(env, "status", treaty, "--json")
    if code == 2 and ("unknown treaty" in err or "no accepted snapshot" in err):
        return None
    assert code == 0, err
    return json.loads(out)


def history(env: Mapping[str, str], treaty: str) -> dict[str, Any] | None:
    code, out, err = cli(env, "history", treaty, "--json")
    if code == 2:
        return None
    assert code == 0, err
    return json.loads(out)


def subscribe_webhook(env: Mapping[str, str], url: str, *extra: str) -> dict[str, Any]:
    code, out, err = cli(env, "subscribe", "--webhook", url, "--json", *extra)
    assert code == 0, f"tracker subscribe failed ({code}): {err}"
    return json.loads(out)


def dispatch(env: Mapping[str, str]) -> str:
    code, out, err = cli(env, "dispatch")
    assert code == 0, f"tracker dispatch failed ({code}): {err}"
    return out.strip()


# --- the crawl summary: read in one place -----------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A crawl's summary, about its status pages. Outcomes are those of the issue (accepted,
    unchanged, quarantined, failed). Where the summary breaks its counts down by kind of page
    (`by_kind`: status pages, and the catalogue's navigation pages), the status pages' counts
    are used; `asked`, `lost` and `balanced` are None while the tracker does not report them."""

    raw: Mapping[str, Any]
    source: str = "record"  # "record" (the JSON on the source row) or "stdout" (the printed line)

    @property
    def status_pages(self) -> Mapping[str, Any]:
        by_kind = self.raw.get("by_kind")
        return by_kind.get("status", {}) if isinstance(by_kind, Mapping) else self.raw

    def count(self, outcome: str) -> int:
        found = self.status_pages
        if outcome == "quarantined":  # a "rejected" (out of order) page is a quarantine too
            return int(found.get("quarantined", 0)) + int(found.get("rejected", 0))
        return int(found.get(outcome, 0))

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in OUTCOMES}

    @property
    def accounted(self) -> int:
        return sum(self.counts.values())

    @property
    def asked(self) -> int | None:
        value = self.status_pages.get("asked")
        return None if value is None else int(value)

    @property
    def lost(self) -> int | None:
        value = self.raw.get("lost")
        return None if value is None else int(value)

    @property
    def balanced(self) -> bool | None:
        """Every page asked for (status and navigation) settled as exactly one outcome."""
        value = self.raw.get("balanced")
        return None if value is None else bool(value)

    @property
    def ok(self) -> bool | None:
        value = self.raw.get("ok")
        return None if value is None else bool(value)


_LINE = re.compile(r"crawl \S+: (?P<body>.*)")


def read_summary(db_url: str, run: CrawlRun, slug: str = "untc") -> Summary | None:
    """The summary of `run`: the JSON recorded on the source row by this crawl, else the counts of
    the line `tracker crawl` printed; None if the crawl left neither."""
    row = source_row(db_url, slug)
    recorded = (row or {}).get("last_crawl") or {}
    finished = recorded.get("finished_at")
    if finished and datetime.fromisoformat(finished) >= run.started_at:
        return Summary(recorded)
    m = _LINE.search(run.stdout)
    if not m:
        return None
    counts = {k: int(v) for v, k in re.findall(r"(\d+) ([a-z_]+)", m.group("body"))}
    return Summary(counts, source="stdout")


# --- what the database says -------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def source_row(db_url: str, slug: str = "untc") -> dict[str, Any] | None:
    sessions = session_factory_for(db_url)
    try:
        with sessions() as session:
            row = session.scalar(select(Source).where(Source.slug == slug))
            if row is None:
                return None
            return {
                "healthy": row.healthy,
                "last_success_at": _iso(row.last_success_at),
                "last_checked_at": _iso(row.last_checked_at),
                "consecutive_failures": row.consecutive_failures,
                "last_error": row.last_error,
                "last_crawl": row.last_crawl,
            }
    finally:
        sessions.kw["bind"].dispose()


@dataclass
class PageOutcome:
    outcome: str  # one of OUTCOMES, or LOST
    reason: str | None = None
    kind: str | None = None  # the quarantine kind, if any

    def __str__(self) -> str:
        return self.outcome + (f" ({self.reason})" if self.reason else "")


def _treaty_of_url(url: str) -> str | None:
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}.get("mtdsg_no")


def page_outcomes(db_url: str, since: datetime, treaties: Iterable[str]) -> dict[str, PageOutcome]:
    """What became of each treaty's status page in the crawl that started at `since`: a
    quarantine row (failed fetch or refused page), a new snapshot (accepted), a treaty checked
    (unchanged), or none of these (lost)."""
    wanted = list(treaties)
    found: dict[str, PageOutcome] = {}
    sessions = session_factory_for(db_url)
    try:
        with sessions() as session:
            rows = session.scalars(
                select(Quarantine).where(Quarantine.fetched_at >= since).order_by(Quarantine.id)
            )
            for q in rows:
                treaty = q.expected_treaty or _treaty_of_url(q.url)
                if treaty in wanted:
                    outcome = "failed" if q.kind == "fetch_failure" else "quarantined"
                    found[treaty] = PageOutcome(outcome, q.reason, q.kind)
            for treaty in wanted:
                if treaty in found:
                    continue
                row = session.scalar(select(Treaty).where(Treaty.external_id == treaty))
                if row is None:
                    found[treaty] = PageOutcome(LOST)
                    continue
                new = session.scalar(
                    select(Snapshot.id)
                    .where(Snapshot.treaty_id == row.id, Snapshot.fetched_at >= since)
                    .limit(1)
                )
                if new is not None:
                    found[treaty] = PageOutcome("accepted")
                elif row.last_checked_at is not None and row.last_checked_at >= since:
                    found[treaty] = PageOutcome("unchanged")
                else:
                    found[treaty] = PageOutcome(LOST)
    finally:
        sessions.kw["bind"].dispose()
    return found


def last_checked(db_url: str, treaties: Iterable[str]) -> dict[str, str | None]:
    sessions = session_factory_for(db_url)
    try:
        with sessions() as session:
            return {
                t: _iso(
                    session.scalar(select(Treaty.last_checked_at).where(Treaty.external_id == t))
                )
                for t in treaties
            }
    finally:
        sessions.kw["bind"].dispose()


# --- comparing answers ------------------------------------------------------------------------

_VOLATILE_STATUS = ("last_checked_at", "observed_at")


def comparable_status(answer: Mapping[str, Any] | None, base_url: str = "") -> Any:
    """A status answer without what moves with every poll (last check, the observation of a new
    snapshot of the same content) and with the mirror's address taken out."""
    if answer is None:
        return None
    found = {k: v for k, v in answer.items() if k not in _VOLATILE_STATUS}
    text = json.dumps(found, sort_keys=True, ensure_ascii=False)
    return json.loads(text.replace(base_url, "BASE")) if base_url else json.loads(text)


_DROP = re.compile(r"(^id$|_id$|_at$|_by_snapshot$|^snapshot$|^delivery$|^subscription$)")


def without_times_and_ids(value: Any) -> Any:
    """`value` with every id and time field removed, recursively (for comparing two databases)."""
    if isinstance(value, Mapping):
        return {k: without_times_and_ids(v) for k, v in value.items() if not _DROP.search(k)}
    if isinstance(value, list):
        return [without_times_and_ids(v) for v in value]
    return value


def comparable_history(found: Mapping[str, Any] | None, base_url: str = "") -> Any:
    """A history answer minus ids and times (first-observed times become presence flags)."""
    if found is None:
        return None
    text = json.dumps(without_times_and_ids(found), sort_keys=True, ensure_ascii=False)
    return json.loads(text.replace(base_url, "BASE")) if base_url else json.loads(text)


def status_for_reference(answer: Mapping[str, Any] | None, base_url: str = "") -> Any:
    """A status answer comparable across databases: also without first-observation times."""
    found = comparable_status(answer, base_url)
    if found is None:
        return None
    for p in found.get("participants", []):
        p["first_observed"] = sorted(
            k for k, v in (p.pop("first_observed_at", None) or {}).items() if v
        )
    return without_times_and_ids(found)


# --- what the receiver got --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    kind: str
    treaty: str | None
    participant: str | None
    key: str | None

    @property
    def false_alert(self) -> bool:
        """In these scenarios nothing real changes: any alert about a treaty is false."""
        return self.kind not in SOURCE_EVENT_KINDS

    def __str__(self) -> str:
        return f"{self.kind} {self.treaty or ''} {self.participant or ''}".strip()


def delivered(received: Iterable[Any]) -> list[Delivered]:
    """The webhook requests a receiver recorded (support.alert_receivers.Received), decoded."""
    found = []
    for r in received:
        try:
            body = json.loads(r.body)
        except ValueError:
            found.append(Delivered("undecodable", None, None, r.key))
            continue
        event = body.get("event") or {}
        treaty = (body.get("treaty") or {}).get("id")
        found.append(Delivered(str(event.get("kind")), treaty, event.get("participant"), r.key))
    return found


@dataclass
class Mark:
    """A point in a receiver's log."""

    receiver: Any
    count: int = field(init=False)

    def __post_init__(self) -> None:
        self.count = self.receiver.count()

    def since(self) -> list[Delivered]:
        return delivered(self.receiver.snapshot()[self.count :])
