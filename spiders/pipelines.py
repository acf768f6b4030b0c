"""Hand each fetched page to `tracker.services.ingest` and account for what the crawl did."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from spiders.items import FetchFailure, PageItem
from spiders.lifeline import stop_reason
from tracker.services.ingest import FetchedPage, ingest_page, record_crawl, record_fetch_failure
from tracker.settings import Settings

log = logging.getLogger(__name__)


class IngestPipeline:
    """Ingest every page as it arrives (one transaction each); record the crawl at the end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.counts: Counter[str] = Counter()
        self.summary_file = crawler.settings.get("TRACKER_SUMMARY_FILE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        settings = Settings.from_env()
        self.approaching = settings.approaching_remaining
        self.confirm_after = timedelta(hours=settings.disappearance_confirm_hours)
        settings.ensure_data_dir()
        upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        self.sessions = make_session_factory(self.engine)
        self.started = datetime.now(UTC)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, FetchFailure):
            self.counts["failed"] += 1
            record_fetch_failure(
                self.sessions, item.source, item.url, item.reason,
                datetime.fromisoformat(item.fetched_at), item.body,
            )
            log.warning("fetch failed: %s (%s)", item.url, item.reason)
            return item
        if isinstance(item, PageItem):
            result = ingest_page(
                self.sessions,
                FetchedPage(
                    source=item.source,
                    url=item.url,
                    body=item.body,
                    fetched_at=datetime.fromisoformat(item.fetched_at),
                    expected_treaty=item.expected_treaty,
                    content_type=item.content_type,
                    revalidated=item.revalidated,
                ),
                approaching=self.approaching,
                confirm_after=self.confirm_after,
            )
            self.counts["pages"] += 1
            self.counts[result.outcome] += 1
            self.counts["events"] += result.events
            if result.outcome in ("quarantined", "rejected"):
                log.warning("%s %s: %s", result.outcome, item.url, result.reason)
            else:
                log.info("%s %s (%s, %d events)", result.outcome, item.url, result.treaty_id, result.events)
        return item

    def close_spider(self, spider: Spider | None = None) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        summary = {
            "source": getattr(self.crawler.spider, "name", "untc"),
            "pages": self.counts["pages"],
            "accepted": self.counts["accepted"],
            "unchanged": self.counts["unchanged"],
            "quarantined": self.counts["quarantined"],
            "rejected": self.counts["rejected"],
            "failed": self.counts["failed"],
            "events": self.counts["events"],
            "requests": stats.get("downloader/request_count", 0),
            "not_modified": stats.get("httpcache/revalidate", 0),
            "started_at": self.started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
        }
        problems = summary["quarantined"] + summary["failed"]
        index_empty = bool(stats.get("tracker/index_empty"))
        ok = problems == 0 and not index_empty and summary["pages"] > 0
        error = None
        if not ok:
            error = (
                f"{summary['quarantined']} quarantined, {summary['failed']} failed"
                + (", catalogue index empty" if index_empty else "")
                + (", no pages" if summary["pages"] == 0 else "")
            )
        stopped = stop_reason(self.crawler)  # SIGTERM, the parent gone: neither good nor bad
        if stopped:
            summary["stopped"] = stopped
            ok, error = False, stopped + (f" ({error})" if error else "")
        record_crawl(
            self.sessions, summary["source"], summary, ok, error, datetime.now(UTC),
            stopped=bool(stopped),
        )
        log.info("crawl summary %s", json.dumps(summary, sort_keys=True))
        if self.summary_file:
            Path(self.summary_file).write_text(json.dumps(summary, indent=2, sort_keys=True))
        self.engine.dispose()
