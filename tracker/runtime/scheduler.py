"""The scheduler: APScheduler 3.x wiring only (which job runs when); the jobs are tracker.runtime.jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.alerts.job import DISPATCH_INTERVAL_SECONDS
from tracker.runtime.crawl_guard import stop_orphaned_crawls
from tracker.runtime.jobs import (
    CRAWL_INTERVAL_HOURS,
    CRAWL_JITTER_SECONDS,
    EVALUATE_AT,
    HEALTH_INTERVAL_MINUTES,
    crawl_job,
    dispatch_job,
    evaluate_job,
    first_crawl_at,
    health_job,
)
from tracker.settings import Settings
from tracker.sources import registry


def build_scheduler(
    settings: Settings, scheduler_cls: type[BaseScheduler] = BlockingScheduler
) -> BaseScheduler:
    """The jobs: each source's crawl, the daily evaluation, the health check, the alert
    dispatcher (every minute); never overlapping, missed runs coalesced."""
    scheduler = scheduler_cls(timezone=UTC)
    now = datetime.now(UTC)
    for slug in registry.slugs():  # one crawl job per registered source
        scheduler.add_job(
            crawl_job,
            IntervalTrigger(hours=CRAWL_INTERVAL_HOURS, jitter=CRAWL_JITTER_SECONDS, timezone=UTC),
            args=(settings, slug),
            id=f"crawl:{slug}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=first_crawl_at(settings, slug, now),
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


def start_scheduler(settings: Settings) -> BaseScheduler:
    """On taking the scheduler: stop any crawl left running by a leader that died here (its pid
    file, verified against /proc), then build the scheduler (not started)."""
    stop_orphaned_crawls(settings.data_dir, registry.slugs())
    return build_scheduler(settings, BackgroundScheduler)
