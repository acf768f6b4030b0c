"""Politeness machinery: revalidating cache policy, retry backoff, and the project settings."""

import asyncio
import time

from scrapy.http import Request, Response
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.test import get_crawler

from spiders.httpcache import RevalidatingPolicy
from spiders.middlewares import BackoffRetryMiddleware
from spiders.untc import UntcSpider


def policy():
    return RevalidatingPolicy(ScrapySettings({"HTTPCACHE_IGNORE_SCHEMES": []}))


def test_cached_page_is_always_revalidated_with_its_validators():
    cached = Response("http://x/p", headers={"ETag": '"abc"', "Last-Modified": "Mon, 02 Feb 2026 10:00:00 GMT"})
    request = Request("http://x/p")
    assert policy().is_cached_response_fresh(cached, request) is False
    assert request.headers.get("If-None-Match") == b'"abc"'
    assert request.headers.get("If-Modified-Since") == b"Mon, 02 Feb 2026 10:00:00 GMT"


def test_cached_body_is_reused_only_on_304_never_for_an_error():
    cached, request = Response("http://x/p", body=b"old"), Request("http://x/p")
    assert policy().is_cached_response_valid(cached, Response("http://x/p", status=304), request)
    for status in (200, 500, 503):
        assert not policy().is_cached_response_valid(cached, Response("http://x/p", status=status), request)


def test_retries_back_off_exponentially():
    crawler = get_crawler(UntcSpider, settings_dict={"RETRY_TIMES": 3, "RETRY_BACKOFF_BASE": 2.0,
                                                     "RETRY_BACKOFF_MAX": 5.0})
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
