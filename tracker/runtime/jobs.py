"""The scheduled jobs: each is a thin call into a service, run by the scheduler (tracker.runtime.scheduler)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, time, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from tracker.alerts.job import dispatch_once
from tracker.runtime.crawl_report import CrawlReport, record_unrecorded
from tracker.runtime.crawl_runner import run_crawl
from tracker.services.health import HealthPolicy, refresh_health
from tracker.services.read.sources import last_crawl
from tracker.services.rules_service import evaluate_now
from tracker.services.unit_of_work import Database
from tracker.settings import Settings
from tracker.sources import registry

log = logging.getLogger("tracker.service")

CRAWL_INTERVAL_HOURS = 6
CRAWL_JITTER_SECONDS = 600
HEALTH_INTERVAL_MINUTES = 15
# A crawl's counts in its log record (spiders.pipelines: asked = accepted + unchanged +
# quarantined + failed; pages = status pages; rejected, lost and spooled are details).
CRAWL_COUNTS = (
    "asked",
    "pages",
    "accepted",
    "unchanged",
    "quarantined",
    "rejected",
    "failed",
    "lost",
    "spooled",
    "events",
)


EVALUATE_AT = time(0, 5)  # UTC: daily evaluation, just after a legal date begins
ENTRY_INTO_FORCE_AT = time(0, 0, 30)  # UTC: on the day of a projected entry into force


def crawl_job(settings: Settings, source: str) -> CrawlReport:
    """Crawl one source in a subprocess, settle the source's health, log what the crawl did.

    The crawl records itself (`record_crawl` in the pipeline); a crawl that died before it could
    (timeout, killed, Scrapy crash) is recorded here as a failed crawl, so it counts towards the
    source's failure streak; a crawl stopped on purpose (the service stopping, another crawl of
    the source running) is not. Health is then re-evaluated with this service's settings.
    """
    started = datetime.now(UTC)
    report = run_crawl(settings, source=source)
    finished = datetime.now(UTC)
    healthy: bool | None = None
    database = Database.open(settings.database_url)
    try:
        policy = HealthPolicy.from_settings(settings)
        sessions = database.sessions
        record_unrecorded(sessions, source, report, started, finished, policy)
        healthy = refresh_health(sessions, finished, policy, known=(source,))[source].healthy
    except Exception:  # the database is down: the log line below still says what happened
        log.exception("crawl %s: could not record its outcome", source)
    finally:
        database.dispose()
    ok = report.error is None and report.returncode == 0
    stats = report.stats
    log.log(
        logging.INFO if ok else logging.WARNING,
        "%s",
        report.summary(),
        extra={
            "event": "crawl",
            "source": source,
            "ok": ok,
            **{key: stats.get(key, 0) for key in CRAWL_COUNTS},
            "requests": stats.get("requests", 0),
            "not_modified": stats.get("not_modified", 0),
            "returncode": report.returncode,
            "error": report.error,
            "stopped": report.stopped,
            "duration_s": round((finished - started).total_seconds(), 3),
            "source_healthy": healthy,
        },
    )
    return report


class _Dispatching:
    """This process's dispatch runs: one at a time; a run asked for while one is running (the
    doorbell rang meanwhile) makes that one go round again instead of being lost."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = False
        self.again = False


_DISPATCHING = _Dispatching()


def dispatch_job(settings: Settings) -> None:
    """Deliver the alerts due now (a failing channel is recorded per delivery, not raised); run
    by the scheduler every minute and whenever the doorbell rings (tracker.alerts.wake)."""
    state = _DISPATCHING
    with state.lock:
        if state.running:  # woken while a run is under way: it goes round once more
            state.again = True
            return
        state.running, state.again = True, False
    try:
        while True:
            dispatch_once(settings)  # logs its summary when it delivered anything
            with state.lock:
                if not state.again:
                    state.running = False
                    return
                state.again = False
    except BaseException:
        with state.lock:
            state.running = False
        raise


def health_job(settings: Settings) -> None:
    """Re-evaluate every source's health now (staleness needs no crawl to happen)."""
    with Database.open(settings.database_url) as database:
        verdicts = refresh_health(
            database.sessions,
            datetime.now(UTC),
            HealthPolicy.from_settings(settings),
            registry.slugs(),
        )
    said = (f"{slug} {'healthy' if h.healthy else 'unhealthy'}" for slug, h in verdicts.items())
    log.debug(
        "health: %s",
        ", ".join(said),
        extra={"event": "health", "unhealthy": [s for s, h in verdicts.items() if not h.healthy]},
    )


def evaluate_job(settings: Settings, scheduler: BaseScheduler | None = None) -> dict[str, object]:
    """Evaluate every treaty's rule now; schedule a run on each entry-into-force day to come."""
    with Database.open(settings.database_url) as database, database.write() as session:
        done = evaluate_now(
            session, now=datetime.now(UTC), approaching=settings.approaching_remaining
        )
    log.info(
        "evaluated %d treaties: %d new events",
        done["evaluated"],
        len(done["events"]),
        extra={
            "event": "evaluation",
            "evaluated": done["evaluated"],
            "with_rule": done["with_rule"],
            "events_created": len(done["events"]),
            "events": done["events"],
            "pending_entry_into_force": done["pending_entry_into_force"],
        },
    )
    if scheduler is not None:
        for treaty, day in done["pending_entry_into_force"].items():
            schedule_entry_into_force(scheduler, settings, treaty, date.fromisoformat(day))
    return done


def schedule_entry_into_force(
    scheduler: BaseScheduler, settings: Settings, treaty: str, day: date
) -> None:
    """A one-off evaluation at the start of `day` (UTC), so entered_into_force fires on the day."""
    scheduler.add_job(
        evaluate_job,
        DateTrigger(run_date=datetime.combine(day, ENTRY_INTO_FORCE_AT, UTC)),
        args=(settings, scheduler),
        id=f"entry-into-force:{treaty}",
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )


def first_crawl_at(settings: Settings, source: str, now: datetime) -> datetime:
    """When a new scheduler first crawls `source`: now, unless a crawl finished less than an
    interval ago (e.g. by the leader this process takes over from): then an interval after it.
    A crawl stopped before its end (the service stopping, a signal) did not finish: crawl now."""
    database = Database.open(settings.database_url)
    try:
        with database.read() as session:
            last = last_crawl(session, source)
        if last.get("stopped"):
            return now
        stamp = last.get("finished_at")
        finished = datetime.fromisoformat(str(stamp)) if stamp else None
    except Exception:  # noqa: BLE001 (no row, bad value, database down: crawl now, as after any downtime)
        return now
    finally:
        database.dispose()
    if finished is None or finished.tzinfo is None:
        return now
    return max(now, finished + timedelta(hours=CRAWL_INTERVAL_HOURS))
