"""HTTP cache policy for status pages: always revalidate, never stand in for a failed fetch."""

from __future__ import annotations

from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Request, Response


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
        return response.status == 304
