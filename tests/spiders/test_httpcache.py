"""The HTTP cache middleware: no stale copy for a failed fetch, nothing stored before ingestion
accepted it, a refused cached copy removed, a 304 naming another ETag not trusted."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError, TimeoutError

from spiders import signals as tracker_signals
from spiders.httpcache import (
    CACHE_KEY,
    REVALIDATED,
    UNCONDITIONAL,
    TrackerHttpCacheMiddleware,
    etags_agree,
)
from spiders.untc import UntcSpider

URL = "http://127.0.0.1:9/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9&chapter=26&clang=_en"
GOOD = b"<html>the good page</html>"


@pytest.fixture
def cache(tmp_path):
    crawler = get_crawler(
        UntcSpider,
        settings_dict={
            "HTTPCACHE_ENABLED": True,
            "HTTPCACHE_DIR": str(tmp_path / "httpcache"),
            "HTTPCACHE_POLICY": "spiders.httpcache.RevalidatingPolicy",
            "HTTPCACHE_STORAGE": "spiders.httpcache.TrackerCacheStorage",
        },
    )
    crawler.spider = UntcSpider.from_crawler(crawler)
    if getattr(crawler, "request_fingerprinter", None) is None:
        crawler._apply_settings()
    mw = TrackerHttpCacheMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    return mw


def answer(mw, status=200, body=GOOD, etag='"g"', request=None):
    """One fetch through the middleware: request in, response out (None: the cache answered)."""
    request = request or Request(URL)
    assert mw.process_request(request) is None  # never answers from the cache by itself
    response = HtmlResponse(
        URL, status=status, body=body, headers={"ETag": etag} if etag else {}, request=request
    )
    return request, mw.process_response(request, response)


def settle(mw, request, outcome):
    mw.crawler.signals.send_catch_log(
        signal=tracker_signals.page_settled, cache_key=request.meta.get(CACHE_KEY), outcome=outcome
    )


def cached(mw):
    return mw.storage.retrieve_response(mw.crawler.spider, Request(URL))


def test_nothing_is_stored_until_ingestion_accepts_the_page(cache):
    request, _ = answer(cache)
    assert cached(cache) is None and request.meta[CACHE_KEY] in cache.pending
    settle(cache, request, "accepted")
    assert cached(cache).body == GOOD and cache.pending == {}


@pytest.mark.parametrize("outcome", ["quarantined", "failed"])
def test_a_page_ingestion_did_not_accept_is_never_stored(cache, outcome):
    request, _ = answer(cache, body=b"", etag='"empty"')
    settle(cache, request, outcome)
    assert cached(cache) is None and cache.pending == {}


def test_a_rejected_answer_keeps_the_accepted_copy_and_its_validators(cache):
    first, _ = answer(cache)
    settle(cache, first, "accepted")
    request, response = answer(cache, body=b"maintenance", etag='"m"')
    assert request.headers.get("If-None-Match") == b'"g"' and response.body == b"maintenance"
    settle(cache, request, "quarantined")
    assert cached(cache).body == GOOD  # the next crawl still sends If-None-Match: "g"


def test_a_revalidated_copy_that_ingestion_refuses_is_removed(cache):
    first, _ = answer(cache)
    settle(cache, first, "accepted")
    request, response = answer(cache, status=304, body=b"")
    assert response.body == GOOD and request.meta[REVALIDATED] is True
    settle(cache, request, "quarantined")
    assert cached(cache) is None  # a later 304 can never serve it again


def test_a_failed_fetch_is_never_answered_with_the_cached_copy(cache):
    first, _ = answer(cache)
    settle(cache, first, "accepted")
    for error in (TimeoutError(), ConnectionRefusedError(), OSError("reset")):
        request = Request(URL)
        assert cache.process_request(request) is None and "cached_response" in request.meta
        assert cache.process_exception(request, error) is None
    assert cache.stats.get_value("httpcache/errorrecovery_refused") == 3


def test_a_304_naming_another_etag_drops_the_copy_and_fetches_again_without_validators(cache):
    first, _ = answer(cache)
    settle(cache, first, "accepted")
    _, again = answer(cache, status=304, body=b"", etag='"other"')
    assert isinstance(again, Request) and again.meta[UNCONDITIONAL] and again.dont_filter
    assert again.headers.get("If-None-Match") is None and cached(cache) is None
    assert cache.process_request(again) is None
    assert again.headers.get("If-None-Match") is None and "cached_response" not in again.meta


def test_etag_comparison():
    def r(etag):
        return Response(URL, headers={"ETag": etag} if etag else {})

    assert etags_agree(r('"a"'), r('"a"')) and etags_agree(r('W/"a"'), r('"a"'))
    assert etags_agree(r('"a"'), r(None)) and etags_agree(r(None), r('"b"'))
    assert not etags_agree(r('"a"'), r('"b"'))


def test_redirects_and_errors_are_not_held_for_storage(cache):
    for status in (301, 404, 500):
        request, _ = answer(cache, status=status, body=b"x")
        assert CACHE_KEY not in request.meta
    assert cache.pending == {}


def _body_file(mw):
    from pathlib import Path

    return Path(mw.storage._get_request_path(mw.crawler.spider, Request(URL))) / "response_body"


def test_a_revalidated_copy_is_refreshed_in_place_without_writing_its_body_again(cache):
    first, _ = answer(cache, etag='"g"')
    settle(cache, first, "accepted")
    body = _body_file(cache)
    before = body.stat()
    request, response = answer(cache, status=304, body=b"", etag='"g"')
    response.headers["X-Seen"] = "again"  # the 304's freshened headers are what is kept
    settle(cache, request, "unchanged")
    after = body.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    again = cached(cache)
    assert again.body == GOOD and again.headers.get("X-Seen") == b"again"
    # and the next crawl still revalidates with the same validator
    request, _ = answer(cache, status=304, body=b"", etag='"g"')
    assert request.headers.get("If-None-Match") == b'"g"'


def test_a_revalidated_copy_whose_body_file_differs_is_stored_whole(cache):
    first, _ = answer(cache)
    settle(cache, first, "accepted")
    request, _ = answer(cache, status=304, body=b"")
    _body_file(cache).write_bytes(b"truncated")  # the entry on disk is not the served copy
    settle(cache, request, "unchanged")
    assert cached(cache).body == GOOD


def test_a_refreshed_entry_shorter_than_the_last_one_reads_back_exactly(cache):
    import ast
    import pickle

    request = Request(URL)
    assert cache.process_request(request) is None
    first = HtmlResponse(
        URL, body=GOOD, headers={"ETag": '"g"', "X-Note": "a long first value"}, request=request
    )
    cache.process_response(request, first)
    settle(cache, request, "accepted")
    request = Request(URL)
    assert cache.process_request(request) is None
    not_modified = Response(URL, status=304, headers={"ETag": '"g"', "X-Note": "b"})
    cache.process_response(request, not_modified)
    settle(cache, request, "unchanged")
    entry = _body_file(cache).parent
    again = cached(cache)
    assert again.body == GOOD and again.headers.getlist("X-Note") == [b"b"]
    raw = (entry / "response_headers").read_bytes()
    assert b"long first value" not in raw and raw.count(b"X-Note") == 1
    meta = pickle.loads((entry / "pickled_meta").read_bytes())
    assert ast.literal_eval((entry / "meta").read_text()) == meta
    assert meta["url"] == URL and meta["status"] == 200


def test_overwrite_leaves_exactly_the_new_bytes(tmp_path):
    from spiders.httpcache import overwrite

    path = tmp_path / "f"
    overwrite(path, b"x" * 5000)  # a new file
    assert path.read_bytes() == b"x" * 5000
    overwrite(path, b"short")  # over longer old bytes: their tail cut off
    assert path.read_bytes() == b"short"
    overwrite(path, b"y" * 9000)
    assert path.read_bytes() == b"y" * 9000
    overwrite(path, b"")
    assert path.read_bytes() == b""


def test_the_storage_reads_and_names_entries_as_scrapys_own(cache, tmp_path):
    """TrackerCacheStorage reads with os.path what Scrapy's FilesystemCacheStorage writes and
    reads, at the same paths: the same response, the same cache_timestamp, None when absent or
    expired."""
    from scrapy.extensions.httpcache import FilesystemCacheStorage

    spider, storage = cache.crawler.spider, cache.storage
    scrapys = FilesystemCacheStorage(cache.crawler.settings)
    scrapys.open_spider(spider)
    request = Request(URL)
    assert storage.retrieve_response(spider, request) is None
    assert storage._get_request_path(spider, request) == scrapys._get_request_path(spider, request)
    scrapys.store_response(
        spider, request, HtmlResponse(URL, body=GOOD, headers={"ETag": '"g"'}, request=request)
    )
    ours_request, theirs_request = Request(URL), Request(URL)
    ours = storage.retrieve_response(spider, ours_request)
    theirs = scrapys.retrieve_response(spider, theirs_request)
    assert type(ours) is type(theirs)
    assert (ours.url, ours.status, ours.body, ours.headers) == (
        theirs.url,
        theirs.status,
        theirs.body,
        theirs.headers,
    )
    assert ours_request.meta["cache_timestamp"] == theirs_request.meta["cache_timestamp"]
    storage.expiration_secs = 1
    meta = f"{storage._get_request_path(spider, request)}/pickled_meta"
    import os

    os.utime(meta, (0, 0))  # long expired
    assert storage.retrieve_response(spider, Request(URL)) is None
    storage.expiration_secs = 0  # never expires
    assert storage.retrieve_response(spider, Request(URL)).body == GOOD
