"""Hand each fetched page to `tracker.services.ingest` and account for every page of the crawl.

Every page the crawl asked for or discovered ends as exactly one of accepted, unchanged,
quarantined or failed (spiders.ledger); the summary written at the end proves the sum. A
database error while ingesting a page is retried (`Settings.ingest_retries`, short backoff);
if it persists the page is spooled to disk (tracker.services.spool) as failed, and recovered
by the next crawl's start or `tracker ingest --spool`. The HTTP cache stores a page's response
only once ingestion accepted it or found it unchanged (spiders.httpcache).

Over 300 lines on purpose: one idea, the accounting of a crawl's pages and the hand-off to
ingestion, which must see every outcome (spiders.ledger keeps the book).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from db.engine import one_line
from db.migrate import upgrade
from db.unit_of_work import Database
from spiders import signals as tracker_signals
from spiders.items import FetchFailure, NavigationPage, PageItem
from spiders.ledger import KIND_META, PAGE_META, Ledger
from spiders.lifeline import stop_reason
from tracker.services.crawl_records import record_crawl, record_fetch_failure
from tracker.services.health import HealthPolicy
from tracker.services.ingest import FetchedPage, ingest_page, quarantine_page
from tracker.services.spool import recover_spool, spool_page, with_retries
from tracker.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# What the HTTP cache did (spiders.httpcache), copied into the summary.
CACHE_STATS = (
    "firsthand",
    "revalidate",
    "invalidate",
    "store",
    "rejected",
    "removed",
    "errorrecovery_refused",
    "etag_mismatch",
)


def _page_of(request: Request) -> str:
    return str(request.meta.get(PAGE_META) or request.url)


def _kind_of(request: Request) -> str:
    return str(request.meta.get(KIND_META) or "other")


class IngestPipeline:
    """Ingest every page as it arrives (one transaction each); record the crawl at the end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ledger = Ledger()
        self.events = 0
        self.revalidated = 0
        self.summary_file = crawler.settings.get("TRACKER_SUMMARY_FILE")
        self.spool: dict[str, Any] = {"recovered": 0, "left": 0, "left_reasons": []}
        self._db: asyncio.Lock | None = None  # created in open_spider

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        pipeline = cls(crawler)
        connect = crawler.signals.connect
        connect(pipeline.request_scheduled, signal=signals.request_scheduled)
        connect(pipeline.request_dropped, signal=signals.request_dropped)
        connect(pipeline.request_reached_downloader, signal=signals.request_reached_downloader)
        connect(pipeline.response_received, signal=signals.response_received)
        connect(pipeline.spider_error, signal=signals.spider_error)
        connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    # -- what Scrapy's signals say about each page -------------------------------------------

    def request_scheduled(self, request: Request, spider: Spider | None = None) -> None:
        self.ledger.scheduled(_page_of(request), _kind_of(request), request.url)

    def request_dropped(self, request: Request, spider: Spider | None = None) -> None:
        reason = (
            f"dropped by the scheduler: {request.url} was already requested in this crawl "
            "(a duplicate, or a redirect to a page already fetched)"
        )
        log.warning("%s: %s", _page_of(request), reason)
        self.ledger.settle(
            _page_of(request), "failed", kind=_kind_of(request), reason=reason, detail="dropped"
        )

    def request_reached_downloader(self, request: Request, spider: Spider | None = None) -> None:
        self.ledger.sent(_page_of(request))

    def response_received(
        self, response: Response, request: Request, spider: Spider | None = None
    ) -> None:
        self.ledger.answered(_page_of(request))

    def spider_error(
        self, failure: Failure, response: Response, spider: Spider | None = None
    ) -> None:
        request = response.request
        page = _page_of(request) if request is not None else response.url
        kind = _kind_of(request) if request is not None else "other"
        reason = f"spider error on {response.url}: {failure.getErrorMessage()}"
        self.ledger.settle(page, "failed", kind=kind, reason=reason, detail="error")

    def item_error(
        self,
        item: Any,
        response: Response,
        spider: Spider | None = None,
        failure: Failure | None = None,
    ) -> None:
        page = getattr(item, "page", None) or getattr(item, "url", None) or response.url
        reason = f"pipeline error: {failure.getErrorMessage() if failure else 'unknown'}"
        self.ledger.settle(page, "failed", reason=reason, detail="error")

    # -- the crawl -----------------------------------------------------------------------------

    def open_spider(self, spider: Spider | None = None) -> None:
        self.settings = settings = Settings.from_env()
        self.approaching = settings.approaching_remaining
        self.confirm_after = timedelta(hours=settings.disappearance_confirm_hours)
        self.health = HealthPolicy.from_settings(settings)
        settings.ensure_data_dir()
        upgrade(settings.database_url)
        self.database = Database.open(settings.database_url)
        self.sessions = self.database.sessions
        self.started = datetime.now(UTC)
        self.cpu_started = time.process_time()  # every thread's CPU time, for the summary
        self._db = asyncio.Lock()
        self._recover_spool()

    def _recover_spool(self) -> None:
        """Store what earlier crawls fetched but could not store, before this crawl's pages."""
        try:
            recovery = recover_spool(
                self.sessions,
                self.settings.spool_dir,
                approaching=self.approaching,
                confirm_after=self.confirm_after,
                health=self.health,
                on_page=lambda s, r: log.info(
                    "spool: recovered %s fetched %s: %s",
                    s.page.url,
                    s.page.fetched_at.isoformat(),
                    r.outcome,
                ),
            )
        except OSError as error:
            log.error("spool: cannot read %s: %s", self.settings.spool_dir, error)
            self.spool["error"] = str(error)
            return
        self.spool = recovery.as_dict()
        if recovery.left:
            log.warning("spool: %d page(s) left in %s", len(recovery.left), self.settings.spool_dir)
        self.events += sum(result.events for _, result in recovery.recovered)

    async def _database(self, action: Callable[[], T]) -> T:
        """Run a database action off the reactor thread, one at a time, retried on errors."""
        assert self._db is not None
        retries = self.settings.ingest_retries

        def retrying(attempt: int, error: SQLAlchemyError) -> None:
            log.warning(
                "database error (try %d of %d), retrying: %s",
                attempt + 1,
                retries + 1,
                one_line(error),
            )

        async with self._db:
            return await asyncio.to_thread(with_retries, action, retries, on_retry=retrying)

    def _settled(self, cache_key: str | None, outcome: str) -> None:
        self.crawler.signals.send_catch_log(
            signal=tracker_signals.page_settled, cache_key=cache_key, outcome=outcome
        )

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, FetchFailure):
            await self._fetch_failure(item)
        elif isinstance(item, NavigationPage):
            await self._navigation(item)
        elif isinstance(item, PageItem):
            await self._status_page(item)
        return item

    async def _fetch_failure(self, item: FetchFailure) -> None:
        page = item.page or item.url
        self.ledger.settle(page, "failed", kind=item.kind, reason=item.reason, url=item.url)
        log.warning("fetch failed: %s (%s)", item.url, item.reason)
        try:
            await self._database(
                lambda: record_fetch_failure(
                    self.sessions,
                    item.source,
                    item.url,
                    item.reason,
                    datetime.fromisoformat(item.fetched_at),
                    item.body,
                    item.expected_treaty,
                )
            )
        except SQLAlchemyError as error:
            log.error("could not record the failed fetch of %s: %s", item.url, one_line(error))

    async def _navigation(self, item: NavigationPage) -> None:
        page = item.page or item.url
        if item.outcome == "quarantined":
            reason = item.reason or "navigation page rejected"
            fetched = FetchedPage(
                item.source,
                item.url,
                item.body,
                datetime.fromisoformat(item.fetched_at),
                content_type=item.content_type,
                revalidated=item.revalidated,
            )
            try:
                await self._database(
                    lambda: quarantine_page(self.sessions, fetched, reason, self.health)
                )
            except SQLAlchemyError as error:
                log.error("could not quarantine %s: %s", item.url, one_line(error))
            self.ledger.settle(page, "quarantined", kind=item.kind, reason=reason, url=item.url)
        else:
            self.ledger.settle(page, item.outcome, kind=item.kind, url=item.url)
        self._settled(item.cache_key, item.outcome)

    async def _status_page(self, item: PageItem) -> None:
        page = item.page or item.url
        if item.revalidated:
            self.revalidated += 1
        fetched = FetchedPage(
            source=item.source,
            url=item.url,
            body=item.body,
            fetched_at=datetime.fromisoformat(item.fetched_at),
            expected_treaty=item.expected_treaty,
            content_type=item.content_type,
            revalidated=item.revalidated,
        )
        try:
            result = await self._database(
                lambda: ingest_page(
                    self.sessions,
                    fetched,
                    approaching=self.approaching,
                    confirm_after=self.confirm_after,
                    health=self.health,
                )
            )
        except SQLAlchemyError as error:
            self._spool(page, fetched, f"database error: {one_line(error)}")
            self._settled(item.cache_key, "failed")
            return
        except Exception as error:  # a bug must not lose the page either: keep it for later
            log.exception("ingest error on %s", item.url)
            self._spool(page, fetched, f"ingest error: {type(error).__name__}: {error}")
            self._settled(item.cache_key, "failed")
            return
        self.events += result.events
        if result.outcome in ("quarantined", "rejected"):
            log.warning("%s %s: %s", result.outcome, item.url, result.reason)
            detail = "rejected" if result.outcome == "rejected" else None
            self.ledger.settle(
                page,
                "quarantined",
                kind="status",
                reason=result.reason,
                detail=detail,
                url=item.url,
            )
            self._settled(item.cache_key, "quarantined")
        else:
            log.info(
                "%s %s (%s, %d events)", result.outcome, item.url, result.treaty_id, result.events
            )
            self.ledger.settle(page, result.outcome, kind="status", url=item.url)
            self._settled(item.cache_key, result.outcome)

    def _spool(self, page: str, fetched: FetchedPage, reason: str) -> None:
        try:
            path = spool_page(self.settings.spool_dir, fetched, reason)
        except OSError as error:
            why = f"{reason}; could not be spooled either ({error}): lost"
            log.error("%s: %s", fetched.url, why)
            self.ledger.settle(
                page, "failed", kind="status", reason=why, detail="lost", url=fetched.url
            )
            return
        why = f"{reason}; kept in the spool ({path.name}) for the next crawl or `tracker ingest --spool`"
        log.error("%s: %s", fetched.url, why)
        self.ledger.settle(
            page, "failed", kind="status", reason=why, detail="spooled", url=fetched.url
        )

    def close_spider(self, spider: Spider | None = None) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.ledger.close()
        counts = self.ledger.summary()
        summary: dict[str, Any] = {
            "source": self.crawler.spider.name,
            # the status pages' format, for a spider that crawls several (untc: html or xml)
            "format": getattr(self.crawler.spider, "format", None),
            **counts,
            "pages": counts["by_kind"].get("status", {}).get("asked", 0),
            "events": self.events,
            "revalidated": self.revalidated,
            "requests": stats.get("downloader/request_count", 0),
            "not_modified": stats.get("httpcache/revalidate", 0),
            "index_empty": bool(stats.get("tracker/index_empty")),
            "spool": self.spool,
            "cache": {key: stats.get(f"httpcache/{key}", 0) for key in CACHE_STATS},
            "retries": {
                "count": stats.get("retry/count", 0),
                "retry_after": stats.get("retry/retry_after", 0),
                "retry_after_over_cap": stats.get("retry/retry_after_over_cap", 0),
            },
            "started_at": self.started.isoformat(),
            "cpu_s": round(time.process_time() - self.cpu_started, 3),
        }
        problems = []
        if summary["quarantined"] or summary["failed"]:
            problems.append(f"{summary['quarantined']} quarantined, {summary['failed']} failed")
        if summary["lost"]:
            problems.append(f"{summary['lost']} lost")
        if summary["index_empty"]:
            problems.append("catalogue index empty")
        if summary["pages"] == 0:
            problems.append("no status pages")
        if not summary["balanced"]:
            problems.append("pages unaccounted for")
        summary["ok"] = not problems
        summary["error"] = "; ".join(problems) or None
        stopped = stop_reason(self.crawler)  # SIGTERM, the parent gone: neither good nor bad
        if stopped:
            summary["stopped"] = stopped
            summary["ok"] = False
            summary["error"] = stopped + (f" ({summary['error']})" if summary["error"] else "")
        finished = datetime.now(UTC)
        summary["finished_at"] = finished.isoformat()
        try:
            with_retries(
                lambda: record_crawl(
                    self.sessions,
                    summary["source"],
                    summary,
                    summary["ok"],
                    summary["error"],
                    finished,
                    stopped=bool(stopped),
                    policy=self.health,
                ),
                self.settings.ingest_retries,
            )
            summary["recorded"] = True
        except SQLAlchemyError as error:
            log.error("could not record the crawl: %s", one_line(error))
            summary["recorded"] = False
        log.info("crawl summary %s", json.dumps(summary, sort_keys=True))
        if self.summary_file:
            _write_atomically(
                Path(self.summary_file), json.dumps(summary, indent=2, sort_keys=True)
            )
        self.database.dispose()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
