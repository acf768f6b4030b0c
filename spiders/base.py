"""What every depositary's spider shares: the source it crawls, its base URL, the treaties
asked for, requests that name their page, the items handed to ingestion, and the errback.

A source's spider (`spiders/<slug>.py`, `name` = the slug) subclasses `SourceSpider` and holds
only its navigation: `start_catalogue()` (where a crawl of the whole catalogue begins) and the
callbacks that follow links, calling `status_request(treaty, url)` for each status page and
`navigation(response, kind, found, what)` for each catalogue page. Parsing happens in
`tracker.sources.<slug>`, storage and accounting in the ingest pipeline (spiders.pipelines,
spiders.ledger): every request names its page (meta `tracker_page`, the URL asked for, kept
through redirects and retries) and its kind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from spiders.httpcache import CACHE_KEY, REVALIDATED
from spiders.items import FetchFailure, NavigationPage, PageItem
from spiders.ledger import KIND_META, PAGE_META
from spiders.middlewares import FAIL_REASON
from tracker.sources import registry
from tracker.sources.registry import Source


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


class SourceSpider(scrapy.Spider):
    """`scrapy crawl <slug> [-a treaty=ID,ID] [-a base_url=URL]`: a registered source's crawl."""

    name: str  # the source's slug (tracker.sources.registry)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The source's own Scrapy settings (`Source.spider_settings`) on top of the project's."""
        super().update_settings(settings)
        settings.setdict(dict(registry.get(cls.name).spider_settings), priority="spider")

    def __init__(
        self, treaty: str | None = None, base_url: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.treaties = [t.strip() for t in (treaty or "").split(",") if t.strip()]
        for t in self.treaties:
            self.source.check_id(t)  # fail fast on a malformed id
        self._base_url_arg = base_url
        self.seen: set[str] = set()

    @property
    def source(self) -> Source:
        return registry.get(self.name)

    @property
    def base_url(self) -> str:
        configured = self.settings.getdict("BASE_URLS").get(self.name)
        return (self._base_url_arg or configured or self.source.default_base_url).rstrip("/")

    @property
    def allowed_domains(self) -> list[str]:  # type: ignore[override]
        return [urlsplit(self.base_url).hostname or ""]

    # --- navigation: what a source's spider provides ------------------------------------------

    def start_catalogue(self) -> Iterable[scrapy.Request]:
        """The first requests of a crawl of the whole catalogue."""
        raise NotImplementedError

    def status_url(self, treaty: str) -> str:
        """The status page of one treaty."""
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------------

    def request(self, url: str, kind: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request that names its page and kind (for the accounting) and fails to our errback."""
        meta = {PAGE_META: url, KIND_META: kind, **kwargs.pop("meta", {})}
        return scrapy.Request(
            url, callback=callback, errback=self.fetch_failed, meta=meta, **kwargs
        )

    async def start(self) -> AsyncIterator[Any]:
        if self.treaties:
            for treaty in self.treaties:
                yield self.status_request(treaty)
        else:
            for request in self.start_catalogue():
                yield request

    def navigation(self, response: Response, kind: str, found: int, what: str) -> NavigationPage:
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

    def status_request(self, treaty: str) -> scrapy.Request:
        """The request of one treaty's status page (each treaty once per crawl)."""
        self.seen.add(treaty)
        return self.request(
            self.status_url(treaty),
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
