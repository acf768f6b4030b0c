"""HTTP cache for status pages: always revalidate, never stand in for a failed fetch, and never
keep a response that ingestion did not accept.

Scrapy's HttpCacheMiddleware differs in three ways that would let a stale copy pass for a
fresh fetch, so it is replaced by `TrackerHttpCacheMiddleware`:

- error recovery: on a timeout, a refused connection or a reset it serves the cached copy
  ("httpcache/errorrecovery"); here the error goes on to the retry middleware and the errback,
  and the page is a failed fetch;
- it stores every cacheable response as soon as it is downloaded, before the spider and the
  pipeline saw it; here a response is held back until ingestion settles the page
  (spiders.signals.page_settled): stored when accepted or unchanged, dropped otherwise, so a
  quarantined page (an empty 200 with an ETag, a maintenance page) never gets validators into
  the cache that a later 304 would turn back into that page;
- on a 304 it re-serves the cached body whatever the 304 says; here a 304 whose ETag is not
  the cached one (a server confused about which representation it means) does not confirm the
  copy: the entry is dropped and the page is fetched again without validators.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import shutil
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.http import Request, Response
from scrapy.spiders import Spider
from scrapy.utils.response import response_from_dict
from w3lib.http import headers_dict_to_raw, headers_raw_to_dict

from spiders import signals as tracker_signals

log = logging.getLogger(__name__)

CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")
# Request meta keys.
CACHE_KEY = "tracker_cache_key"  # the held-back response of this request (see `pending`)
REVALIDATED = "tracker_revalidated"  # the response is the cached body, confirmed by a 304
UNCONDITIONAL = "tracker_unconditional"  # fetch without validators (after a bad 304)


class RevalidatingPolicy(RFC2616Policy):
    """RFC 2616 caching where every cached page is stale: each crawl sends a conditional
    request (If-None-Match / If-Modified-Since) and reuses the body only on 304 Not Modified.

    Unlike Scrapy's RFC2616Policy, a 5xx answer is NOT replaced by the cached copy: an outage
    must show as a failed fetch, not as "checked, unchanged".
    """

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304 and etags_agree(cachedresponse, response)


def _opaque(etag: bytes) -> bytes:
    """The entity tag without its weakness prefix (the weak comparison of RFC 9110 8.8.3.2)."""
    etag = etag.strip()
    return etag[2:] if etag[:2] == b"W/" else etag


def etags_agree(cached: Response, not_modified: Response) -> bool:
    """Does a 304 confirm this cached copy? Yes unless both carry an ETag and they differ.

    A 304 answers "the representation you hold is current"; the ETag it carries names that
    representation (RFC 9111 4.3.4: a stored response is updated only by a 304 with the same
    validator). A server that sends only Last-Modified, or a 304 without an ETag, confirms the
    copy its If-Modified-Since / If-None-Match came from.
    """
    new = not_modified.headers.get(b"ETag")
    old = cached.headers.get(b"ETag")
    if not new or not old:
        return True
    return _opaque(new) == _opaque(old)


def overwrite(path: str | Path, data: bytes) -> None:
    """Make the file at `path` hold exactly `data`: its old bytes written over, what is left of
    them cut off. The same file as `open(path, "wb").write(data)`, without its cost: on ext4
    (auto_da_alloc) a file that held data and is truncated to nothing is flushed to disk when
    it is closed, about 1 to 2.5 ms a file here, three files for every revalidated page, on the
    crawl's one thread; writing over the bytes in place costs about 10 us. A file this small
    is one block: a crash leaves the old bytes or the new ones, not the empty file a crash
    between the truncation and the write of `"wb"` can leave."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


class TrackerCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem storage, plus removing an entry and refreshing one in place.

    The same files, paths and answers as Scrapy's, read with `os.path` strings: Scrapy's builds
    about ten `pathlib.Path` objects and stats the meta file twice for every cached page (some
    50 us a page of an unchanged crawl, where each page is read once and refreshed once)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._root = str(Path(self.cachedir))  # what Scrapy's Path(cachedir, ...) starts with

    def _get_request_path(self, spider: Spider, request: Request) -> str:
        key = self._fingerprinter.fingerprint(request).hex()
        return os.path.join(self._root, spider.name, key[0:2], key)

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        """Scrapy's `retrieve_response`: None when the entry has no meta or it expired."""
        rpath = self._get_request_path(spider, request)
        metapath = os.path.join(rpath, "pickled_meta")
        try:
            if 0 < self.expiration_secs < time.time() - os.stat(metapath).st_mtime:
                return None  # expired
            with self._open(metapath, "rb") as f:
                metadata = pickle.load(f)
        except (FileNotFoundError, NotADirectoryError):
            return None  # not cached
        with self._open(os.path.join(rpath, "response_body"), "rb") as f:
            body = f.read()
        with self._open(os.path.join(rpath, "response_headers"), "rb") as f:
            rawheaders = f.read()
        data = {
            "url": metadata["response_url"],
            "status": metadata["status"],
            "headers": headers_raw_to_dict(rawheaders),
            "body": body,
        }
        try:
            with self._open(os.path.join(rpath, "response_data"), "rb") as f:
                data.update(pickle.load(f))
        except FileNotFoundError:
            pass
        request.meta["cache_timestamp"] = metadata["timestamp"]
        return response_from_dict(data)

    def refresh_response(self, spider: Spider, request: Request, response: Response) -> bool:
        """Store a revalidated copy (the cached body, its headers freshened by a 304) without
        writing its body again: the body on disk is already these bytes. False (nothing
        written) when the entry is gone or its body differs; then store it whole."""
        path = self._get_request_path(spider, request)
        try:
            if os.stat(os.path.join(path, "response_body")).st_size != len(response.body):
                return False
        except OSError:
            return False
        metadata = {
            "url": request.url,
            "method": request.method,
            "status": response.status,
            "response_url": response.url,
            "timestamp": time.time(),
        }
        files = {
            "meta": repr(metadata).encode(),
            "pickled_meta": pickle.dumps(metadata, protocol=4),
            "response_headers": headers_dict_to_raw(response.headers) or b"",
        }
        for name, data in files.items():
            if self.use_gzip:
                with self._open(os.path.join(path, name), "wb") as f:
                    f.write(data)
            else:
                overwrite(os.path.join(path, name), data)
        return True

    def remove_response(self, spider: Spider, request: Request) -> bool:
        path = Path(self._get_request_path(spider, request))
        if not path.exists():
            return False
        shutil.rmtree(path, ignore_errors=True)
        return True


class TrackerHttpCacheMiddleware(HttpCacheMiddleware):
    """See the module's docstring: no error recovery, storage deferred to ingestion's verdict."""

    def __init__(self, settings: Any, stats: Any) -> None:
        super().__init__(settings, stats)
        # Responses waiting for ingestion's verdict: key -> (request, response, is_cached_copy).
        self.pending: dict[str, tuple[Request, Response, bool]] = {}
        self._keys = itertools.count(1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TrackerHttpCacheMiddleware:
        o = super().from_crawler(crawler)
        crawler.signals.connect(o.page_settled, signal=tracker_signals.page_settled)
        return o

    def spider_closed(self, spider: Spider) -> None:
        if self.pending:  # never settled (redirects, robots.txt, pages that failed): not stored
            self.stats.inc_value("httpcache/unsettled", len(self.pending))
            self.pending.clear()
        super().spider_closed(spider)

    def process_request(
        self, request: Request, spider: Spider | None = None
    ) -> Request | Response | None:
        if request.meta.get(UNCONDITIONAL):
            for header in CONDITIONAL_HEADERS:
                request.headers.pop(header, None)
            request.meta.pop("cached_response", None)
            return None  # no lookup: the answer is handled as first-hand
        return super().process_request(request)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        request.meta.pop(CACHE_KEY, None)  # a redirect copies the previous response's key
        request.meta.pop(REVALIDATED, None)
        if request.meta.get("dont_cache", False):
            return response
        if "_dont_cache" in request.meta or "cached" in response.flags:
            request.meta.pop("_dont_cache", None)
            return response
        if "Date" not in response.headers:
            response.headers["Date"] = formatdate(usegmt=True)
        cached: Response | None = request.meta.pop("cached_response", None)
        if cached is None:
            self.stats.inc_value("httpcache/firsthand")
            self._hold(response, request, cached_copy=False)
            return response
        if response.status == 304:
            if not self.policy.is_cached_response_valid(cached, response, request):
                return self._refetch(request, cached, response)
            self.stats.inc_value("httpcache/revalidate")
            self._freshen_cached_response(cached, response)
            request.meta[REVALIDATED] = True
            self._hold(cached, request, cached_copy=True)
            return cached
        self.stats.inc_value("httpcache/invalidate")
        request.meta.pop("cache_timestamp", None)
        self._hold(response, request, cached_copy=False)
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        """Never serve the cached copy for a fetch that did not happen."""
        if request.meta.pop("cached_response", None) is not None:
            self.stats.inc_value("httpcache/errorrecovery_refused")
        return None

    def _refetch(self, request: Request, cached: Response, response: Response) -> Request:
        self.stats.inc_value("httpcache/etag_mismatch")
        log.warning(
            "304 for %s names ETag %s, not the cached %s: fetching it again without validators",
            request.url,
            (response.headers.get(b"ETag") or b"").decode("latin-1"),
            (cached.headers.get(b"ETag") or b"").decode("latin-1"),
        )
        self._remove(request)
        again = request.replace(dont_filter=True)
        for header in CONDITIONAL_HEADERS:
            again.headers.pop(header, None)
        again.meta[UNCONDITIONAL] = True
        return again

    def _hold(self, response: Response, request: Request, *, cached_copy: bool) -> None:
        """Keep the response for storage once ingestion accepted its page (status 200 only:
        redirects and errors are never stored)."""
        if response.status != 200 or not self.policy.should_cache_response(response, request):
            self.stats.inc_value("httpcache/uncacheable")
            return
        key = str(next(self._keys))
        self.pending[key] = (request, response, cached_copy)
        request.meta[CACHE_KEY] = key

    def _remove(self, request: Request) -> bool:
        remove = getattr(self.storage, "remove_response", None)  # TrackerCacheStorage
        assert self.crawler.spider is not None
        return bool(remove(self.crawler.spider, request)) if remove else False

    def page_settled(self, cache_key: str | None, outcome: str) -> None:
        held = self.pending.pop(cache_key, None) if cache_key else None
        if held is None:
            return
        request, response, cached_copy = held
        spider = self.crawler.spider
        assert spider is not None
        if outcome in ("accepted", "unchanged"):
            self.stats.inc_value("httpcache/store")
            refresh = getattr(self.storage, "refresh_response", None)  # TrackerCacheStorage
            if not (cached_copy and refresh and refresh(spider, request, response)):
                self.storage.store_response(spider, request, response)
        elif outcome == "quarantined":
            self.stats.inc_value("httpcache/rejected")
            if cached_copy and self._remove(request):
                # the cached body itself was refused: it must never be re-served
                self.stats.inc_value("httpcache/removed")
