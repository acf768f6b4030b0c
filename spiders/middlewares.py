"""Downloader middlewares: retries that wait (exponential backoff, or the server's Retry-After)
and redirects that fail loudly instead of being dropped."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spiders import Spider
from w3lib.url import canonicalize_url

from tracker.settings import DEFAULTS

log = logging.getLogger(__name__)

# Request meta: why a page is given up, for the errback's failure reason.
FAIL_REASON = "tracker_fail_reason"
RETRY_AFTER_CODES = (429, 503)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or None when
    it is absent or unreadable. A date in the past is 0."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry like Scrapy does, but wait before each retry: the n-th retry waits
    base * 2**(n-1) seconds (with jitter), or, on a 429 / 503 with Retry-After, what the server
    asked, up to RETRY_AFTER_MAX seconds. A Retry-After above that cap is not waited for: the
    page is given up at once as a failed fetch (coming back earlier than asked would be rude,
    waiting longer would stall the crawl). While a Retry-After runs, no request is sent to that
    host."""

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", DEFAULTS.retry_after_max)
        self.not_before: dict[str, float] = {}  # host -> time.monotonic() of its next request

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if (
            response.status in RETRY_AFTER_CODES
            and response.status in self.retry_http_codes
            and not request.meta.get("dont_retry", False)
        ):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None:
                return self._retry_after(request, response, wait)
        return super().process_response(request, response)

    def _retry_after(self, request: Request, response: Response, wait: float) -> Request | Response:
        stats = self.crawler.stats
        if wait > self.retry_after_max:
            reason = (
                f"Retry-After {wait:.0f} s is above the cap of {self.retry_after_max:g} s "
                "(TRACKER_RETRY_AFTER_MAX): given up"
            )
            log.warning("%s: HTTP %d, %s", request.url, response.status, reason)
            if stats:
                stats.inc_value("retry/retry_after_over_cap")
            request.meta[FAIL_REASON] = reason
            return response
        retry = self._retry(request, f"{response.status} Retry-After {wait:g}")
        if retry is None:
            request.meta[FAIL_REASON] = f"still HTTP {response.status} after the retries"
            return response
        if stats:
            stats.inc_value("retry/retry_after")
        retry.meta["backoff_delay"] = wait
        host = urlsplit(request.url).netloc
        self.not_before[host] = max(self.not_before.get(host, 0.0), time.monotonic() + wait)
        return retry

    def _retry(self, request: Request, reason: object) -> Request | None:  # type: ignore[override]
        retry = super()._retry(request, reason)  # type: ignore[arg-type]
        if retry is not None:
            attempt = int(retry.meta.get("retry_times", 1))
            delay = min(self.cap, self.base * 2 ** (attempt - 1))
            retry.meta["backoff_delay"] = delay * random.uniform(0.8, 1.2)
        return retry

    async def process_request(self, request: Request) -> None:
        delay = float(request.meta.pop("backoff_delay", 0) or 0)
        host = urlsplit(request.url).netloc
        paused = self.not_before.get(host, 0.0) - time.monotonic()
        wait = min(max(delay, paused), max(self.cap, self.retry_after_max))
        if wait > 0:
            await asyncio.sleep(wait)


def _on_site(url: str, domains: list[str]) -> bool:
    """The offsite filter's rule: the host is an allowed domain or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains if d)


def _canonical(url: str) -> str:
    return canonicalize_url(url, keep_fragments=False)


class GuardedRedirectMiddleware(RedirectMiddleware):
    """Follow redirects like Scrapy, but a redirect that cannot lead to the page fails the page
    with its reason (through the request's errback) instead of being dropped silently by the
    scheduler's duplicate filter or the offsite filter: a redirect to the page itself or back to
    an earlier URL of its chain, to another host, or one too many. No Referer is sent, on a
    redirect either (spiders.settings: no RefererMiddleware to ask, nor a warning that it is
    missing)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def handle_referer(self, request: Request, response: Response) -> None:
        request.headers.pop("Referer", None)

    def _redirect(self, redirected: Request, request: Request, reason: object) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        path = " -> ".join([*chain, redirected.url])
        if _canonical(redirected.url) in {_canonical(u) for u in chain}:
            raise IgnoreRequest(f"redirect loop ({reason}): {path}")
        domains = getattr(self.crawler.spider, "allowed_domains", None) or []
        if domains and not _on_site(redirected.url, domains):
            raise IgnoreRequest(f"redirect to another host ({reason}): {path}")
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            raise IgnoreRequest(
                f"too many redirects (more than {self.max_redirect_times}): {path}"
            ) from None
