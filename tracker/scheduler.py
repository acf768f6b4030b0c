"""The service process: APScheduler 3.x wiring only. Each job is a thin call into a service."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from db.migrate import upgrade
from tracker.crawl import run_crawl
from tracker.settings import Settings

log = logging.getLogger("tracker.service")

CRAWL_INTERVAL_HOURS = 6
CRAWL_JITTER_SECONDS = 600


def crawl_job(settings: Settings, source: str) -> None:
    """Crawl one source in a subprocess and log what it did."""
    report = run_crawl(settings, source=source)
    log.info("%s", report.summary(), extra={"crawl": report.stats})


def build_scheduler(settings: Settings) -> BlockingScheduler:
    """A scheduler with one crawl job per source: never overlapping, missed runs coalesced."""
    scheduler = BlockingScheduler(timezone=UTC)
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
    return scheduler


def run_service(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Upgrade the database, then run the scheduled jobs until SIGTERM or SIGINT."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings.ensure_data_dir()
    upgrade(settings.database_url)
    scheduler = build_scheduler(settings)

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    log.info("service started: database %s, crawling %s every %d h", settings.database_url,
             settings.untc_base_url, CRAWL_INTERVAL_HOURS)
    scheduler.start()
    return 0
