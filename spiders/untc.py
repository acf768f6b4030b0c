"""UN Treaty Collection spider: discovers status pages and hands their raw bytes to ingestion.

Navigation only: the chapter list, then each chapter's treaty list, then each status page.
Parsing happens in `tracker.sources.untc`, storage in the ingest pipeline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.items import FetchFailure, PageItem
from tracker.sources import untc_urls as urls


def _now() -> str:
    return datetime.now(UTC).isoformat()


class UntcSpider(scrapy.Spider):
    """`scrapy crawl untc [-a treaty=XXVI-9,IV-4] [-a base_url=URL] [-a format=html|xml]`."""

    name = "untc"

    def __init__(
        self,
        treaty: str | None = None,
        base_url: str | None = None,
        format: str = "html",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.treaties = [t.strip() for t in (treaty or "").split(",") if t.strip()]
        for t in self.treaties:
            urls.chapter_of(t)  # fail fast on a malformed id
        if format not in ("html", "xml"):
            raise ValueError(f"format must be html or xml, not {format!r}")
        self.format = format
        self._base_url_arg = base_url
        self.seen: set[str] = set()

    @property
    def base_url(self) -> str:
        return (self._base_url_arg or self.settings.get("UNTC_BASE_URL")).rstrip("/")

    @property
    def allowed_domains(self) -> list[str]:  # type: ignore[override]
        return [urlsplit(self.base_url).hostname or ""]

    async def start(self) -> AsyncIterator[Any]:
        if self.treaties:
            for treaty in self.treaties:
                yield self._status_request(treaty)
        else:
            yield scrapy.Request(urls.index_url(self.base_url), callback=self.parse_index,
                                 errback=self.fetch_failed)

    def parse_index(self, response: Response) -> Iterable[scrapy.Request]:
        """Follow every chapter of the catalogue."""
        chapters = {
            c for href in response.css("a::attr(href)").getall()
            if (c := urls.chapter_from_link(response.urljoin(href))) is not None
        }
        if not chapters:
            self.logger.error("no chapter links on %s: layout change?", response.url)
            self.crawler.stats.inc_value("tracker/index_empty")
        for chapter in sorted(chapters):
            yield scrapy.Request(urls.chapter_url(self.base_url, chapter), callback=self.parse_chapter,
                                 errback=self.fetch_failed)

    def parse_chapter(self, response: Response) -> Iterable[scrapy.Request]:
        """Follow every treaty of one chapter."""
        found = 0
        for href in response.css("a::attr(href)").getall():
            treaty = urls.treaty_from_link(response.urljoin(href))
            if treaty and treaty not in self.seen:
                found += 1
                yield self._status_request(treaty)
        if not found:
            self.logger.warning("no treaty links on %s", response.url)

    def _status_request(self, treaty: str) -> scrapy.Request:
        self.seen.add(treaty)
        build = urls.xml_url if self.format == "xml" else urls.status_page_url
        return scrapy.Request(
            build(self.base_url, treaty),
            callback=self.parse_status,
            errback=self.fetch_failed,
            cb_kwargs={"treaty": treaty},
            meta={"treaty": treaty},
        )

    def parse_status(self, response: Response, treaty: str) -> Iterable[PageItem]:
        """Hand the raw page over; ingestion parses, validates and stores it."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        yield PageItem(
            source=self.name,
            url=response.url,
            body=response.body,
            status=response.status,
            fetched_at=_now(),
            expected_treaty=treaty,
            content_type=content_type,
        )

    def fetch_failed(self, failure: Failure) -> Iterable[FetchFailure]:
        """Report a page that could not be fetched, keeping any body it came with."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        reason = failure.getErrorMessage() or failure.type.__name__
        if response is not None:
            reason = f"HTTP {response.status}: {reason}"
        yield FetchFailure(
            source=self.name,
            url=request.url,
            reason=reason,
            fetched_at=_now(),
            expected_treaty=request.meta.get("treaty"),
            body=response.body if response is not None else None,
        )
