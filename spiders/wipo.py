"""WIPO Lex spider: navigation only, straight to the Contracting Parties page of each treaty.

The catalogue is the configured list of WIPO-administered treaties
(tracker.sources.wipo.treaties): there is no catalogue page to walk. Requests, items, the
errback and the accounting are the base spider's (spiders.base); parsing happens in
`tracker.sources.wipo`.
"""

from __future__ import annotations

from collections.abc import Iterable

import scrapy

from spiders.base import SourceSpider
from tracker.sources.wipo import treaties, urls


class WipoSpider(SourceSpider):
    """`scrapy crawl wipo [-a treaty=843,15] [-a base_url=URL]`."""

    name = "wipo"

    def start_catalogue(self) -> Iterable[scrapy.Request]:
        for treaty in treaties.treaty_ids():
            if treaty not in self.seen:
                yield self.status_request(treaty)

    def status_url(self, treaty: str) -> str:
        return urls.status_page_url(self.base_url, treaty)
