"""UN Treaty Collection spider: discovers status pages and hands their raw bytes to ingestion.

Navigation only: the chapter list, then each chapter's treaty list, then each status page.
Parsing happens in `tracker.sources.untc`, storage in the ingest pipeline. Every request names
its page (meta `tracker_page`, the URL asked for, kept through redirects and retries) and its
kind, so the crawl can account for each page (spiders.ledger).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.httpcache import CACHE_KEY, REVALIDATED
from spiders.items import FetchFailure, NavigationPage, PageItem
from spiders.ledger import KIND_META, PAGE_META
from spiders.middlewares import FAIL_REASON
from tracker.sources.untc import urls


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _meta(response: Response) -> dict[str, Any]:
    return response.request.meta if response.request is not None else {}


def _content_type(response: Response) -> str | None:
    return response.headers.get(b"Content-Type", b"").decode("latin-1") or None


def failure_reason(failure: Failure) -> str:
    """One line for a failed fetch. Twisted's "response never received" and "response failed"
    carry a list of inner failures whose repr would otherwise be the message."""
    inner = getattr(failure.value, "reasons", None)
    if isinstance(inner, list) and inner:
        parts = [
            f"{f.type.__name__}: {f.getErrorMessage()}" if isinstance(f, Failure) else str(f)
            for f in inner
        ]
        return f"{failure.type.__name__} ({'; '.join(parts)})"
    return failure.getErrorMessage() or failure.type.__name__


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

    def _request(self, url: str, kind: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        meta = {PAGE_META: url, KIND_META: kind, **kwargs.pop("meta", {})}
        return scrapy.Request(
            url, callback=callback, errback=self.fetch_failed, meta=meta, **kwargs
        )

    async def start(self) -> AsyncIterator[Any]:
        if self.treaties:
            for treaty in self.treaties:
                yield self._status_request(treaty)
        else:
            yield self._request(urls.index_url(self.base_url), "index", self.parse_index)

    def _navigation(self, response: Response, kind: str, found: int, what: str) -> NavigationPage:
        """What navigation made of a catalogue page: no links at all is a quarantined page."""
        revalidated = bool(_meta(response).get(REVALIDATED))
        if found:
            outcome, reason = ("unchanged" if revalidated else "accepted"), None
        else:
            outcome, reason = "quarantined", f"no {what} links on the {kind} page: layout change?"
            self.logger.error("%s: %s", response.url, reason)
        return NavigationPage(
            source=self.name,
            url=response.url,
            kind=kind,
            outcome=outcome,
            fetched_at=_now(),
            reason=reason,
            body=response.body,
            content_type=_content_type(response),
            revalidated=revalidated,
            page=_meta(response).get(PAGE_META, response.url),
            cache_key=_meta(response).get(CACHE_KEY),
        )

    def parse_index(self, response: Response) -> Iterable[Any]:
        """Follow every chapter of the catalogue."""
        chapters = {
            c
            for href in response.css("a::attr(href)").getall()
            if (c := urls.chapter_from_link(response.urljoin(href))) is not None
        }
        if not chapters:
            self.crawler.stats.inc_value("tracker/index_empty")
        for chapter in sorted(chapters):
            yield self._request(
                urls.chapter_url(self.base_url, chapter), "chapter", self.parse_chapter
            )
        yield self._navigation(response, "index", len(chapters), "chapter")

    def parse_chapter(self, response: Response) -> Iterable[Any]:
        """Follow every treaty of one chapter (each treaty once per crawl)."""
        listed = 0
        for href in response.css("a::attr(href)").getall():
            treaty = urls.treaty_from_link(response.urljoin(href))
            if treaty:
                listed += 1
                if treaty not in self.seen:
                    yield self._status_request(treaty)
        yield self._navigation(response, "chapter", listed, "treaty")

    def _status_request(self, treaty: str) -> scrapy.Request:
        self.seen.add(treaty)
        build = urls.xml_url if self.format == "xml" else urls.status_page_url
        return self._request(
            build(self.base_url, treaty),
            "status",
            self.parse_status,
            cb_kwargs={"treaty": treaty},
            meta={"treaty": treaty},
        )

    def parse_status(self, response: Response, treaty: str) -> Iterable[PageItem]:
        """Hand the raw page over; ingestion parses, validates and stores it."""
        yield PageItem(
            source=self.name,
            url=response.url,
            body=response.body,
            status=response.status,
            fetched_at=_now(),
            expected_treaty=treaty,
            content_type=_content_type(response),
            revalidated=bool(_meta(response).get(REVALIDATED)),
            page=_meta(response).get(PAGE_META, response.url),
            cache_key=_meta(response).get(CACHE_KEY),
        )

    def fetch_failed(self, failure: Failure) -> Iterable[FetchFailure]:
        """Report a page that could not be fetched, keeping any body it came with."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        reason = failure_reason(failure)
        if response is not None:
            reason = f"HTTP {response.status}: {reason}"
        if request.meta.get(FAIL_REASON):
            reason = f"{reason} ({request.meta[FAIL_REASON]})"
        yield FetchFailure(
            source=self.name,
            url=request.url,
            reason=reason,
            fetched_at=_now(),
            expected_treaty=request.meta.get("treaty"),
            body=response.body if response is not None else None,
            page=request.meta.get(PAGE_META, request.url),
            kind=request.meta.get(KIND_META, "status"),
        )
