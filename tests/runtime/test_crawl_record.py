"""A crawl that could not record itself still counts on the source row (tracker crawl and
tracker run both settle it through tracker.runtime.crawl_report.record_unrecorded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import Source
from tracker.runtime.crawl_report import CrawlReport, record_unrecorded
from tracker.services.crawl_records import record_crawl
from tracker.services.health import DEFAULT_POLICY

pytestmark = pytest.mark.db

START = datetime(2026, 12, 1, 6, tzinfo=UTC)
END = START + timedelta(minutes=3)
POLICY = DEFAULT_POLICY
GOOD = {"ok": True, "pages": 2, "asked": 4, "accepted": 4, "balanced": True, "error": None}


def source(session_factory) -> Source:
    with session_factory() as session:
        return session.scalars(select(Source).where(Source.slug == "untc")).one()


def test_a_crawl_that_died_is_recorded_as_failed(session_factory):
    died = CrawlReport(returncode=-9, error="stopped by signal SIGKILL")
    assert record_unrecorded(session_factory, "untc", died, START, END, POLICY)
    row = source(session_factory)
    assert (row.consecutive_failures, row.last_success_at) == (1, None)
    assert row.last_error == "stopped by signal SIGKILL" and row.healthy is False


def test_a_crawl_whose_own_record_failed_is_recorded_with_its_verdict(session_factory):
    stored = CrawlReport(returncode=0, stats={**GOOD, "recorded": False})
    assert record_unrecorded(session_factory, "untc", stored, START, END, POLICY)
    row = source(session_factory)
    assert (row.consecutive_failures, row.last_success_at) == (0, END)
    spooled = {**GOOD, "ok": False, "failed": 1, "error": "1 failed", "recorded": False}
    later = END + timedelta(hours=6)
    bad = CrawlReport(returncode=1, stats=spooled)
    assert record_unrecorded(
        session_factory, "untc", bad, later - timedelta(minutes=3), later, POLICY
    )
    row = source(session_factory)
    assert (row.consecutive_failures, row.last_success_at, row.last_error) == (1, END, "1 failed")


def test_a_recorded_or_stopped_crawl_is_left_alone(session_factory):
    record_crawl(session_factory, "untc", GOOD, True, None, END)  # the pipeline did it
    recorded = CrawlReport(returncode=0, stats={**GOOD, "recorded": True})
    assert not record_unrecorded(session_factory, "untc", recorded, START, END, POLICY)
    crashed_after = CrawlReport(returncode=1, error="scrapy exited with status 1")
    assert not record_unrecorded(session_factory, "untc", crashed_after, START, END, POLICY)
    stopped = CrawlReport(143, error="stopped by SIGTERM", stopped="SIGTERM")
    later = END + timedelta(hours=1)
    assert not record_unrecorded(session_factory, "untc", stopped, later, later, POLICY)
    row = source(session_factory)
    assert (row.consecutive_failures, row.last_success_at) == (0, END)
