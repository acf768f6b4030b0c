"""UN Treaty Collection spider: navigation only, from the chapter list to the status pages.

The chapter list, then each chapter's treaty list (`Treaties.aspx?id=N&subid=A`), then each
sub-chapter's list the chapter page links (chapter XI: `subid=B` to `E`, kind "subchapter"),
then each status page (ViewDetails HTML, or with `-a format=xml` the MTDSG XML). Every
chapter and sub-chapter page must list treaties: one that lists none is quarantined (a layout
change or an error page), never read as "no treaties". Requests, items, the errback and the
accounting are the base spider's (spiders.base); parsing happens in `tracker.sources.untc`.
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
        self.catalogue_seen: set[tuple[int, str]] = set()  # (chapter, sub-chapter) asked for

    def catalogue_request(self, chapter: int, subchapter: str = "A") -> scrapy.Request:
        """A chapter's page (`subid=A`, kind "chapter") or one of its sub-chapters' pages
        (kind "subchapter"), each once per crawl."""
        self.catalogue_seen.add((chapter, subchapter))
        return self.request(
            urls.chapter_url(self.base_url, chapter, subchapter),
            "chapter" if subchapter == "A" else "subchapter",
            self.parse_chapter,
            cb_kwargs={"chapter": chapter, "subchapter": subchapter},
        )

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
            if (chapter, "A") not in self.catalogue_seen:
                yield self.catalogue_request(chapter)
        yield self.navigation(response, "index", len(chapters), "chapter")

    def parse_chapter(
        self, response: Response, chapter: int | None = None, subchapter: str = "A"
    ) -> Iterable[Any]:
        """Follow every treaty of one chapter or sub-chapter page (each treaty once per crawl)
        and every sub-chapter of the same chapter it links (each once per crawl). The page
        counts as read only by its treaty links: sub-chapter links alone do not make it good."""
        if chapter is None:  # called without the request's cb_kwargs: read the page's own URL
            chapter, subchapter = urls.catalogue_page_from_link(response.url) or (0, "A")
        self.catalogue_seen.add((chapter, subchapter))  # a page does not ask for itself again
        listed = 0
        for href in response.css("a::attr(href)").getall():
            link = response.urljoin(href)
            treaty = urls.treaty_from_link(link)
            if treaty:
                listed += 1
                if treaty not in self.seen:
                    yield self.status_request(treaty)
                continue
            page = urls.catalogue_page_from_link(link)
            if page and page[0] == chapter and page not in self.catalogue_seen:
                yield self.catalogue_request(*page)
        kind = "chapter" if subchapter == "A" else "subchapter"
        yield self.navigation(response, kind, listed, "treaty")
