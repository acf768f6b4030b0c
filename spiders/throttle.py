"""AutoThrottle that reads a 304 Not Modified as the successful answer it is.

Scrapy's AutoThrottle lets a response lower the download delay only when its status is 200:
error pages (5xx, 429) and redirects come back faster than real pages, and letting them lower
the delay would speed the crawl up exactly when the server starts failing (the AutoThrottle
docs' reason). A 304 is neither: it is the server's full, successful answer to a conditional
request, the one an unchanged page costs here (spiders.httpcache revalidates every page).
Under Scrapy's rule, in a crawl of unchanged pages every response is a 304, so the delay can
only grow: one slow answer (a busy server, or the crawl's own process busy when the answer
arrived) sets it to latency / target concurrency for the rest of the crawl, far above what the
server's answers since then ask for.

`NotModifiedAwareAutoThrottle` runs Scrapy's own algorithm unchanged and only lets a 304 lower
the delay as a 200 would: the delay still follows the server's latency, never goes below
`DOWNLOAD_DELAY` (1 s by default, the floor the project promises a real site) nor above
`AUTOTHROTTLE_MAX_DELAY`, and errors and redirects still only raise it.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response

NOT_MODIFIED = 304


class NotModifiedAwareAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, where a 304 Not Modified adjusts the delay like a 200."""

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        if response.status == NOT_MODIFIED:
            # Scrapy's rule reads the status alone: the answer read as a success (a bare
            # Response, not a copy of this one: copying a TextResponse detects its encoding).
            response = Response(response.url, status=200)
        super()._adjust_delay(slot, latency, response)
