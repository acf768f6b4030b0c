"""The scheduler: APScheduler 3.x wiring only (which job runs when); the jobs are tracker.runtime.jobs."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.alerts.job import DISPATCH_INTERVAL_SECONDS
from tracker.alerts.wake import DOORBELL
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
    dispatcher (every minute, and when woken); never overlapping, missed runs coalesced."""
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
    add_dispatcher(scheduler, settings, now)
    return scheduler


def add_dispatcher(scheduler: BaseScheduler, settings: Settings, now: datetime) -> None:
    """The alert dispatcher: every minute, and at once whenever the doorbell rings (an ingest,
    an evaluation, a crawl of this process committed deliveries: tracker.alerts.wake). Two
    instances may be asked for at once: the second only makes the first go round again
    (tracker.runtime.jobs.dispatch_job), so a ring during a run is never skipped."""
    scheduler.add_job(
        dispatch_job,
        IntervalTrigger(seconds=DISPATCH_INTERVAL_SECONDS, timezone=UTC),
        args=(settings,),
        id="dispatch",
        max_instances=2,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=now,
    )
    DOORBELL.listen(_waker(weakref.ref(scheduler)))


def _waker(ref: weakref.ref[BaseScheduler]) -> Callable[[], bool]:
    def wake() -> bool:
        scheduler = ref()
        if scheduler is None:
            return False  # gone: stop listening
        if scheduler.state == STATE_RUNNING:
            with contextlib.suppress(JobLookupError):
                scheduler.modify_job("dispatch", next_run_time=datetime.now(UTC))
        return True

    return wake


def start_scheduler(settings: Settings) -> BaseScheduler:
    """On taking the scheduler: stop any crawl left running by a leader that died here (its pid
    file, verified against /proc), then build the scheduler (not started)."""
    stop_orphaned_crawls(settings.data_dir, registry.slugs())
    return build_scheduler(settings, BackgroundScheduler)
