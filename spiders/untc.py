"""UN Treaty Collection spider: navigation only, from the chapter list to the status pages.

The chapter list, then each chapter's treaty list, then each status page (ViewDetails HTML, or
with `-a format=xml` the MTDSG XML). Requests, items, the errback and the accounting are the
base spider's (spiders.base); parsing happens in `tracker.sources.untc`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import SourceSpider, failure_reason
from tracker.sources.untc import urls

__all__ = ["UntcSpider", "failure_reason"]


class UntcSpider(SourceSpider):
    """`scrapy crawl untc [-a treaty=XXVI-9,IV-4] [-a base_url=URL] [-a format=html|xml]`."""

    name = "untc"

    def __init__(self, *args: Any, format: str = "html", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if format not in ("html", "xml"):
            raise ValueError(f"format must be html or xml, not {format!r}")
        self.format = format

    def start_catalogue(self) -> Iterable[scrapy.Request]:
        yield self.request(urls.index_url(self.base_url), "index", self.parse_index)

    def status_url(self, treaty: str) -> str:
        build = urls.xml_url if self.format == "xml" else urls.status_page_url
        return build(self.base_url, treaty)

    def parse_index(self, response: Response) -> Iterable[Any]:
        """Follow every chapter of the catalogue."""
        chapters = {
            c
            for href in response.css("a::attr(href)").getall()
            if (c := urls.chapter_from_link(response.urljoin(href))) is not None
        }
        if not chapters:
            self.crawler.stats.inc_value("tracker/index_empty")
        for chapter in sorted(chapters):
            yield self.request(
                urls.chapter_url(self.base_url, chapter), "chapter", self.parse_chapter
            )
        yield self.navigation(response, "index", len(chapters), "chapter")

    def parse_chapter(self, response: Response) -> Iterable[Any]:
        """Follow every treaty of one chapter (each treaty once per crawl)."""
        listed = 0
        for href in response.css("a::attr(href)").getall():
            treaty = urls.treaty_from_link(response.urljoin(href))
            if treaty:
                listed += 1
                if treaty not in self.seen:
                    yield self.status_request(treaty)
        yield self.navigation(response, "chapter", listed, "treaty")
