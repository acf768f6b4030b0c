"""The service process: APScheduler 3.x wiring only. Each job is a thin call into a service.

`tracker run` serves HTTP in every process; the scheduler runs only in the process that holds
the leader lock (tracker.leader): `Leadership` polls it, starts a fresh scheduler on acquiring it
and shuts the scheduler down (and stops its running crawls) on losing it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import make_url, select

from db.engine import make_engine, make_session_factory, session_factory_for
from db.migrate import upgrade
from db.models import Source
from tracker import sources
from tracker.alerts.job import DISPATCH_INTERVAL_SECONDS, dispatch_once
from tracker.crawl import CrawlReport, record_unrecorded, run_crawl, stop_running_crawls
from tracker.crawl_guard import stop_orphaned_crawls
from tracker.leader import LeaderLock, make_leader_lock
from tracker.logs import configure_logging
from tracker.services.health import HealthPolicy, refresh_health
from tracker.services.rules_service import evaluate_now
from tracker.settings import Settings
from tracker.web.app import create_app

log = logging.getLogger("tracker.service")
leader_log = logging.getLogger("tracker.leader")

CRAWL_INTERVAL_HOURS = 6
CRAWL_JITTER_SECONDS = 600
HEALTH_INTERVAL_MINUTES = 15
# A crawl's counts in its log record (spiders.pipelines: asked = accepted + unchanged +
# quarantined + failed; pages = status pages; rejected, lost and spooled are details).
CRAWL_COUNTS = (
    "asked", "pages", "accepted", "unchanged", "quarantined", "rejected", "failed", "lost",
    "spooled", "events",
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
    sessions = session_factory_for(settings.database_url)
    try:
        policy = HealthPolicy.from_settings(settings)
        record_unrecorded(sessions, source, report, started, finished, policy)
        healthy = refresh_health(sessions, finished, policy, known=(source,))[source].healthy
    except Exception:  # the database is down: the log line below still says what happened
        log.exception("crawl %s: could not record its outcome", source)
    finally:
        sessions.kw["bind"].dispose()
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


def dispatch_job(settings: Settings) -> None:
    """Deliver the alerts due now (a failing channel is recorded per delivery, not raised)."""
    dispatch_once(settings)  # logs its summary when it delivered anything


def health_job(settings: Settings) -> None:
    """Re-evaluate every source's health now (staleness needs no crawl to happen)."""
    sessions = session_factory_for(settings.database_url)
    try:
        verdicts = refresh_health(
            sessions, datetime.now(UTC), HealthPolicy.from_settings(settings), sources.SOURCES
        )
    finally:
        sessions.kw["bind"].dispose()
    said = (f"{slug} {'healthy' if h.healthy else 'unhealthy'}" for slug, h in verdicts.items())
    log.debug(
        "health: %s",
        ", ".join(said),
        extra={"event": "health", "unhealthy": [s for s, h in verdicts.items() if not h.healthy]},
    )


def evaluate_job(settings: Settings, scheduler: BaseScheduler | None = None) -> dict[str, object]:
    """Evaluate every treaty's rule now; schedule a run on each entry-into-force day to come."""
    sessions = session_factory_for(settings.database_url)
    try:
        with sessions.begin() as session:
            done = evaluate_now(
                session, now=datetime.now(UTC), approaching=settings.approaching_remaining
            )
    finally:
        sessions.kw["bind"].dispose()
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
    sessions = session_factory_for(settings.database_url)
    try:
        with sessions() as session:
            last = session.scalar(select(Source.last_crawl).where(Source.slug == source)) or {}
        if last.get("stopped"):
            return now
        stamp = last.get("finished_at")
        finished = datetime.fromisoformat(str(stamp)) if stamp else None
    except Exception:  # no row, bad value, database down: crawl now, as after any downtime
        return now
    finally:
        sessions.kw["bind"].dispose()
    if finished is None or finished.tzinfo is None:
        return now
    return max(now, finished + timedelta(hours=CRAWL_INTERVAL_HOURS))


def build_scheduler(
    settings: Settings, scheduler_cls: type[BaseScheduler] = BlockingScheduler
) -> BaseScheduler:
    """The jobs: each source's crawl, the daily evaluation, the health check, the alert
    dispatcher (every minute); never overlapping, missed runs coalesced."""
    scheduler = scheduler_cls(timezone=UTC)
    now = datetime.now(UTC)
    scheduler.add_job(
        crawl_job,
        IntervalTrigger(hours=CRAWL_INTERVAL_HOURS, jitter=CRAWL_JITTER_SECONDS, timezone=UTC),
        args=(settings, "untc"),
        id="crawl:untc",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=first_crawl_at(settings, "untc", now),
    )
    scheduler.add_job(
        health_job,
        IntervalTrigger(minutes=HEALTH_INTERVAL_MINUTES, timezone=UTC),
        args=(settings,),
        id="health",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=now,
    )
    scheduler.add_job(
        evaluate_job,
        CronTrigger(hour=EVALUATE_AT.hour, minute=EVALUATE_AT.minute, timezone=UTC),
        args=(settings, scheduler),
        id="evaluate",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=now,  # at start too: catches up after downtime
    )
    scheduler.add_job(
        dispatch_job,
        IntervalTrigger(seconds=DISPATCH_INTERVAL_SECONDS, timezone=UTC),
        args=(settings,),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=now,
    )
    return scheduler


class Leadership:
    """Run the scheduler only while holding the leader lock.

    `poll()` is one step: as leader, check the lock is still held (if not: "leader: lost", the
    scheduler is shut down and its running crawls stopped); as standby, try to take it ("leader:
    acquired", a fresh scheduler is started). The thread started by `start()` polls every
    `poll_seconds`; `stop()` ends it and steps down (scheduler, crawls, then the lock).
    """

    def __init__(
        self,
        lock: LeaderLock,
        make_scheduler: Callable[[], BaseScheduler],
        poll_seconds: float,
        on_step_down: Callable[[], Any] = lambda: None,
    ) -> None:
        self.lock = lock
        self.make_scheduler = make_scheduler
        self.poll_seconds = poll_seconds
        self.on_step_down = on_step_down
        self.scheduler: BaseScheduler | None = None
        self._mutex = threading.Lock()
        self._stopping = threading.Event()
        self._standby_said = False
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def poll(self) -> bool:
        """One step of the election; returns whether this process leads now."""
        with self._mutex:
            if self._stopping.is_set():
                return False
            if self.scheduler is not None:
                if self.lock.still_held():
                    return True
                leader_log.error(
                    "leader: lost (%s): stopping the scheduler",
                    self.lock.description,
                    extra={"event": "leader", "state": "lost"},
                )
                self._step_down()
                return False
            if not self.lock.try_acquire():
                if not self._standby_said:
                    leader_log.info(
                        "leader: standby (%s held elsewhere; trying every %g s)",
                        self.lock.description,
                        self.poll_seconds,
                        extra={"event": "leader", "state": "standby"},
                    )
                    self._standby_said = True
                return False
            leader_log.info(
                "leader: acquired (%s): starting the scheduler",
                self.lock.description,
                extra={"event": "leader", "state": "acquired"},
            )
            try:
                scheduler = self.make_scheduler()
                scheduler.start()
            except Exception:
                leader_log.exception("leader: could not start the scheduler; releasing the lock")
                self.lock.release()
                return False
            self.scheduler = scheduler
            self._standby_said = False
            return True

    def _step_down(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            with contextlib.suppress(Exception):
                scheduler.shutdown(wait=False)
            try:
                self.on_step_down()
            except Exception:
                leader_log.exception("leader: stepping down")
        self.lock.release()  # last: no other process starts crawling while ours still run

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:  # never let the election thread die
                leader_log.exception("leader: election step failed")
            self._stopping.wait(self.poll_seconds)

    def start(self) -> Leadership:
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._mutex:
            was_leader = self.scheduler is not None
            self._step_down()
            if was_leader:
                leader_log.info(
                    "leader: released", extra={"event": "leader", "state": "released"}
                )
        close = getattr(self.lock, "close", None)
        if callable(close):
            close()


def _stop_crawls() -> None:
    stopped = stop_running_crawls()
    if stopped:
        log.info("stopped %d running crawl(s)", stopped)


def start_scheduler(settings: Settings) -> BaseScheduler:
    """On taking the scheduler: stop any crawl left running by a leader that died here (its pid
    file, verified against /proc), then build the scheduler (not started)."""
    stop_orphaned_crawls(settings.data_dir, sources.SOURCES)
    return build_scheduler(settings, BackgroundScheduler)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling (it re-raises the signal after shutdown, which
    would kill the process before the scheduler and the database are closed)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Upgrade the database, serve HTTP, and run the scheduled jobs while this process is the
    leader (tracker.leader), until SIGTERM or SIGINT."""
    settings = settings.replace(log_format=settings.log_format or "json")
    configure_logging(settings.log_format or "json", settings.log_level)
    settings.ensure_data_dir()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    app = create_app(make_session_factory(engine), settings)
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            log_config=None,  # uvicorn's records go through our handler (JSON or text)
            access_log=False,
        )
    )
    leadership = Leadership(
        make_leader_lock(settings),
        lambda: start_scheduler(settings),
        settings.leader_poll_seconds,
        on_step_down=_stop_crawls,
    )
    app.state.leadership = leadership  # for the web layer: `.is_leader` (scheduler runs here)
    log.info(
        "service started: database %s, crawling %s every %d h, serving http://%s:%d",
        _safe_url(settings.database_url),
        settings.untc_base_url,
        CRAWL_INTERVAL_HOURS,
        host,
        port,
        extra={"event": "service_started", "host": host, "port": port},
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    leadership.start()
    try:
        server.run()  # returns after SIGTERM/SIGINT, once open requests are answered
    finally:
        leadership.stop()  # scheduler, running crawls, then the lock
        _stop_crawls()
        engine.dispose()
        log.info("service stopped")
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)
