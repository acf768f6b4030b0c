"""Walk a UNTC catalogue over HTTP with the spider's own navigation, without Scrapy's engine.

`walk(base_url)` starts where a whole-catalogue crawl starts (`UntcSpider.start_catalogue`),
fetches every catalogue page the spider asks for from a real server (a loopback mirror), hands
each answer to the callback the request names, and collects the status pages it asks for
(those are not fetched: what is tested is the discovery). The pages are fetched one at a time,
in the order asked, as Scrapy would with one slot.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.items import NavigationPage
from spiders.untc import UntcSpider


@dataclass
class Walk:
    treaties: list[str] = field(default_factory=list)  # status pages asked for, in order
    pages: dict[str, NavigationPage] = field(default_factory=dict)  # catalogue page -> outcome
    kinds: dict[str, str] = field(default_factory=dict)  # catalogue page -> its request's kind
    failed: dict[str, str] = field(default_factory=dict)  # catalogue page -> why

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in self.kinds.values():
            counts[kind] = counts.get(kind, 0) + 1
        return counts


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # loopback mirror only
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def walk(base_url: str) -> Walk:
    crawler = get_crawler(UntcSpider, settings_dict={"BASE_URLS": {"untc": base_url}})
    spider = UntcSpider.from_crawler(crawler)
    found = Walk()
    queue: deque[Request] = deque(spider.start_catalogue())
    while queue:
        request = queue.popleft()
        kind = request.meta["tracker_kind"]
        if kind == "status":
            found.treaties.append(request.meta["treaty"])
            continue
        found.kinds[request.url] = kind
        status, body = _fetch(request.url)
        if status != 200:
            found.failed[request.url] = f"HTTP {status}"
            continue
        response = HtmlResponse(request.url, body=body, request=request)
        for out in request.callback(response, **request.cb_kwargs):
            if isinstance(out, Request):
                queue.append(out)
            elif isinstance(out, NavigationPage):
                found.pages[request.url] = out
    return found
