"""Politeness machinery: revalidating cache policy, retry backoff, and the project settings."""

import asyncio
import time

import pytest
from scrapy.http import Request, Response
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.test import get_crawler

from spiders.httpcache import RevalidatingPolicy
from spiders.middlewares import BackoffRetryMiddleware
from spiders.untc import UntcSpider


def policy():
    return RevalidatingPolicy(ScrapySettings({"HTTPCACHE_IGNORE_SCHEMES": []}))


def test_cached_page_is_always_revalidated_with_its_validators():
    cached = Response(
        "http://x/p", headers={"ETag": '"abc"', "Last-Modified": "Mon, 02 Feb 2026 10:00:00 GMT"}
    )
    request = Request("http://x/p")
    assert policy().is_cached_response_fresh(cached, request) is False
    assert request.headers.get("If-None-Match") == b'"abc"'
    assert request.headers.get("If-Modified-Since") == b"Mon, 02 Feb 2026 10:00:00 GMT"


def test_cached_body_is_reused_only_on_304_never_for_an_error():
    cached, request = Response("http://x/p", body=b"old"), Request("http://x/p")
    assert policy().is_cached_response_valid(cached, Response("http://x/p", status=304), request)
    for status in (200, 500, 503):
        assert not policy().is_cached_response_valid(
            cached, Response("http://x/p", status=status), request
        )


@pytest.mark.slow  # waits the real backoff: over 3 s
def test_retries_back_off_exponentially():
    crawler = get_crawler(
        UntcSpider,
        settings_dict={"RETRY_TIMES": 3, "RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 5.0},
    )
    crawler.spider = UntcSpider.from_crawler(crawler)
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request, delays = Request("http://x/p"), []
    for _ in range(3):
        request = mw.process_response(request, Response("http://x/p", status=503))
        assert isinstance(request, Request)
        delays.append(request.meta["backoff_delay"])
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8
    assert delays[2] <= 5.0 * 1.2  # capped
    gave_up = mw.process_response(request, Response("http://x/p", status=503))
    assert isinstance(gave_up, Response) and gave_up.status == 503


@pytest.mark.slow  # waits the real backoff: over 3 s
def test_backoff_delay_is_waited_before_the_retry_is_sent():
    crawler = get_crawler(UntcSpider)
    crawler.spider = UntcSpider.from_crawler(crawler)
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request("http://x/p", meta={"backoff_delay": 0.2})
    started = time.monotonic()
    assert asyncio.run(mw.process_request(request)) is None
    assert time.monotonic() - started >= 0.19
    assert "backoff_delay" not in request.meta


def test_project_settings_are_polite(monkeypatch):
    from scrapy.utils.project import get_project_settings

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "spiders.settings")
    s = get_project_settings()
    assert s.getbool("ROBOTSTXT_OBEY") and s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert s.getfloat("DOWNLOAD_DELAY") >= 1.0
    assert "treaty-tracker" in s.get("USER_AGENT")
    assert s.getint("DOWNLOAD_MAXSIZE") > 0 and s.getbool("HTTPCACHE_ENABLED")
    assert s.get("HTTPCACHE_POLICY") == "spiders.httpcache.RevalidatingPolicy"
    assert s.get("HTTPCACHE_STORAGE") == "spiders.httpcache.TrackerCacheStorage"
    middlewares = s.getdict("DOWNLOADER_MIDDLEWARES")
    for stock, ours in [
        (
            "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
            "spiders.httpcache.TrackerHttpCacheMiddleware",
        ),
        (
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware",
            "spiders.middlewares.GuardedRedirectMiddleware",
        ),
        (
            "scrapy.downloadermiddlewares.retry.RetryMiddleware",
            "spiders.middlewares.BackoffRetryMiddleware",
        ),
    ]:
        assert middlewares[stock] is None and middlewares[ours] > 0
    assert not s.getbool("METAREFRESH_ENABLED") and s.getint("REDIRECT_MAX_TIMES") == 5
    assert s.getfloat("RETRY_AFTER_MAX") == 300.0


def retry_mw(**settings):
    crawler = get_crawler(UntcSpider, settings_dict={"RETRY_TIMES": 3, **settings})
    crawler.spider = UntcSpider.from_crawler(crawler)
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_retry_after_is_read_as_seconds_or_an_http_date():
    from datetime import UTC, datetime

    from spiders.middlewares import retry_after_seconds

    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120", now) == 120.0
    assert retry_after_seconds("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0  # already past
    for unreadable in (None, b"", b"soon", b"-5", b"1.5"):
        assert retry_after_seconds(unreadable, now) is None


@pytest.mark.slow  # waits the real pause: over 1.5 s
def test_retry_after_replaces_the_backoff_and_pauses_the_host():
    mw = retry_mw(RETRY_AFTER_MAX=10.0)
    request = Request("http://x/p")
    for status in (503, 429):
        retry = mw.process_response(
            request, Response("http://x/p", status=status, headers={"Retry-After": "7"})
        )
        assert isinstance(retry, Request) and retry.meta["backoff_delay"] == 7.0
    assert mw.not_before["x"] - time.monotonic() > 6  # other requests to the host wait too
    # Without (or with an unreadable) Retry-After: the exponential backoff.
    retry = mw.process_response(
        request, Response("http://x/p", status=503, headers={"Retry-After": "?"})
    )
    assert 1.6 <= retry.meta["backoff_delay"] <= 2.4


def test_a_retry_after_above_the_cap_gives_up_at_once():
    from spiders.middlewares import FAIL_REASON

    mw = retry_mw(RETRY_AFTER_MAX=2.0)
    request = Request("http://x/p")
    response = Response("http://x/p", status=503, headers={"Retry-After": "3600"})
    assert mw.process_response(request, response) is response  # no retry: a failed fetch
    assert "above the cap of 2 s" in request.meta[FAIL_REASON]
    assert "x" not in mw.not_before  # and the crawl is not held up


@pytest.mark.slow  # waits the real pause: over 1.5 s
def test_a_paused_host_holds_its_next_request_but_never_beyond_the_cap():
    mw = retry_mw(RETRY_AFTER_MAX=0.3, RETRY_BACKOFF_MAX=0.3)
    mw.not_before["x"] = time.monotonic() + 3600  # whatever happened, the wait is bounded
    started = time.monotonic()
    asyncio.run(mw.process_request(Request("http://x/other")))
    assert 0.25 <= time.monotonic() - started < 1.0
    started = time.monotonic()
    asyncio.run(mw.process_request(Request("http://y/other")))  # another host: no wait
    assert time.monotonic() - started < 0.1


def throttle(**settings):
    from spiders.throttle import NotModifiedAwareAutoThrottle

    crawler = get_crawler(
        UntcSpider,
        settings_dict={
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
            "AUTOTHROTTLE_MAX_DELAY": 60.0,
            **settings,
        },
    )
    extension = NotModifiedAwareAutoThrottle(crawler)
    extension.mindelay = extension._min_delay()
    extension.maxdelay = extension._max_delay()
    return extension


def slot(delay):
    from scrapy.core.downloader import Slot

    return Slot(concurrency=1, delay=delay, jitter=0)


def test_a_304_lowers_the_delay_as_a_200_does_errors_and_redirects_still_cannot():
    extension = throttle(DOWNLOAD_DELAY=0.0)
    for status, lowered in ((200, True), (304, True), (500, False), (503, False), (302, False)):
        s = slot(4.0)
        extension._adjust_delay(s, 0.2, Response("http://x/p", status=status))
        assert (s.delay < 4.0) is lowered, status
        if lowered:  # Scrapy's own step: halfway to latency / target concurrency
            assert s.delay == (4.0 + 0.2) / 2
    s = slot(0.1)  # a slow answer raises the delay whatever its status
    extension._adjust_delay(s, 3.0, Response("http://x/p", status=304))
    assert s.delay == 3.0


def test_a_304_never_takes_the_delay_below_download_delay():
    extension = throttle(DOWNLOAD_DELAY=1.0)
    s = slot(1.5)
    for _ in range(20):
        extension._adjust_delay(s, 0.001, Response("http://x/p", status=304))
    assert s.delay == 1.0


def test_the_project_throttles_with_the_304_aware_autothrottle(monkeypatch):
    from scrapy.utils.project import get_project_settings

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "spiders.settings")
    extensions = get_project_settings().getdict("EXTENSIONS")
    assert extensions["scrapy.extensions.throttle.AutoThrottle"] is None
    assert extensions["spiders.throttle.NotModifiedAwareAutoThrottle"] == 0


def test_one_item_of_a_response_at_a_time(monkeypatch):
    from scrapy.utils.project import get_project_settings

    # a response yields one item here; Scrapy starts CONCURRENT_ITEMS tasks for each response
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "spiders.settings")
    assert get_project_settings().getint("CONCURRENT_ITEMS") == 1
