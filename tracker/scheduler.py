"""The service process: APScheduler 3.x wiring only. Each job is a thin call into a service."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from types import FrameType
from datetime import UTC, date, datetime, time

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from db.engine import make_engine, make_session_factory, session_factory_for
from db.migrate import upgrade
from tracker.crawl import run_crawl, stop_running_crawls
from tracker.services.rules_service import evaluate_now
from tracker.settings import Settings
from tracker.web.app import create_app

log = logging.getLogger("tracker.service")

CRAWL_INTERVAL_HOURS = 6
CRAWL_JITTER_SECONDS = 600


EVALUATE_AT = time(0, 5)  # UTC: daily evaluation, just after a legal date begins
ENTRY_INTO_FORCE_AT = time(0, 0, 30)  # UTC: on the day of a projected entry into force


def crawl_job(settings: Settings, source: str) -> None:
    """Crawl one source in a subprocess and log what it did (its pages are evaluated on ingest)."""
    report = run_crawl(settings, source=source)
    log.info("%s", report.summary(), extra={"crawl": report.stats})


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
        extra={"evaluation": done},
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


def build_scheduler(
    settings: Settings, scheduler_cls: type[BaseScheduler] = BlockingScheduler
) -> BaseScheduler:
    """The jobs: each source's crawl, the daily evaluation; never overlapping, missed runs coalesced."""
    scheduler = scheduler_cls(timezone=UTC)
    scheduler.add_job(
        crawl_job,
        IntervalTrigger(hours=CRAWL_INTERVAL_HOURS, jitter=CRAWL_JITTER_SECONDS, timezone=UTC),
        args=(settings, "untc"),
        id="crawl:untc",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        evaluate_job,
        CronTrigger(hour=EVALUATE_AT.hour, minute=EVALUATE_AT.minute, timezone=UTC),
        args=(settings, scheduler),
        id="evaluate",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),  # at start too: catches up after downtime
    )
    return scheduler


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling (it re-raises the signal after shutdown, which
    would kill the process before the scheduler and the database are closed)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Upgrade the database, start the scheduled jobs and serve HTTP until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    settings.ensure_data_dir()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    scheduler = build_scheduler(settings, BackgroundScheduler)
    server = _Server(
        uvicorn.Config(
            create_app(make_session_factory(engine), settings),
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
    )
    log.info(
        "service started: database %s, crawling %s every %d h, serving http://%s:%d",
        settings.database_url,
        settings.untc_base_url,
        CRAWL_INTERVAL_HOURS,
        host,
        port,
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.start()
    try:
        server.run()  # returns after SIGTERM/SIGINT, once open requests are answered
    finally:
        scheduler.shutdown(wait=False)
        stopped = stop_running_crawls()
        if stopped:
            log.info("stopped %d running crawl(s)", stopped)
        engine.dispose()
        log.info("service stopped")
    return 0
