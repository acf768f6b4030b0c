"""Build a UNTC mirror: status pages under their own URLs, plus the catalogue pages that list them.

No real copy of UNTC's chapter index pages could be recorded, so the catalogue pages
(ParticipationStatus.aspx and Treaties.aspx, with `subid=A..E` for chapter XI's sub-chapters)
are generated here in the site's ASP.NET style with the site's own link forms (as a third
party's parse of the May 2026 chapter pages shows them: shared/fixtures/real/derived/
untc_catalogue_index_2026-05-08); the status pages and XML files are the recorded bytes.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.sources.untc.urls import (
    chapter_url,
    index_url,
    parse_treaty_id,
    status_page_url,
    subchapter_of,
    xml_url,
)

_BASE = "http://mirror.invalid"

# Where `tracker demo` finds recorded status pages (tracker.devtools.demo): the real captures'
# folder under ../shared/fixtures/real, else the project's own fixtures (tests/fixtures/untc).
RECORDED_FOLDER = "untc_viewdetails_html_2026-02-03"
RECORDED_LABEL = "the real UNTC status pages recorded on 3 Feb 2026"
FIXTURES_FOLDER = "untc"
# The mirror generates the catalogue pages that list its status pages, so a whole-catalogue
# crawl of it reaches exactly them (the demo crawls the catalogue).
CATALOGUE_FROM_PAGES = True


@dataclass(frozen=True)
class RecordedPage:
    treaty_id: str
    body: bytes
    title: str = ""
    fmt: str = "html"  # or "xml"


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def index_page(chapters: Iterable[int]) -> bytes:
    """The chapter list, linking `Treaties.aspx?id=N&subid=A&clang=_en` for each chapter."""
    rows = "\n".join(
        f'<tr><td><a href="Treaties.aspx?id={n}&amp;subid=A&amp;clang=_en">Chapter {n}</a></td></tr>'
        for n in sorted(set(chapters))
    )
    return (
        "<!DOCTYPE html><html><head><title>United Nations Treaty Collection</title></head><body>"
        '<form name="aspnetForm" method="post" action="./ParticipationStatus.aspx?clang=_en">'
        f'<table id="ctl00_ctl00_ContentPlaceHolder1_ContentPlaceHolderInnerPage_dgChapterList">{rows}'
        "</table></form></body></html>"
    ).encode()


def _link_text(title: str, treaty_id: str) -> str:
    return html.escape(title or treaty_id)


def chapter_page(
    chapter: int,
    treaties: Iterable[tuple[str, str]],
    subchapter: str = "A",
    subchapters: Iterable[str] = (),
) -> bytes:
    """One chapter's treaty list (or one sub-chapter's), linking each ViewDetails status page;
    the link text is the treaty's title (the site prints `Title. Place, d Month yyyy`). A
    chapter with sub-chapters (XI) also links each of them, `Treaties.aspx?id=11&subid=B`: that
    list's markup is inferred (no real chapter page was recorded), its links are the site's."""
    rows = "\n".join(
        f'<tr><td><a href="ViewDetails.aspx?src=TREATY&amp;mtdsg_no={html.escape(tid)}'
        f'&amp;chapter={chapter}&amp;clang=_en">{_link_text(title, tid)}</a></td></tr>'
        for tid, title in treaties
    )
    subs = "\n".join(
        f'<li><a href="Treaties.aspx?id={chapter}&amp;subid={sub}&amp;clang=_en">'
        f"Sub-chapter {sub}</a></li>"
        for sub in sorted(set(subchapters))
    )
    nav = (
        f'<ul id="ctl00_ctl00_ContentPlaceHolder1_ContentPlaceHolderInnerPage_dlSubChapter">{subs}</ul>'
        if subs
        else ""
    )
    return (
        "<!DOCTYPE html><html><head><title>United Nations Treaty Collection</title></head><body>"
        f'<form name="aspnetForm" method="post" action="./Treaties.aspx?id={chapter}&amp;subid={subchapter}&amp;clang=_en">'
        f"{nav}"
        f'<table id="ctl00_ctl00_ContentPlaceHolder1_ContentPlaceHolderInnerPage_dgTreaty">{rows}'
        "</table></form></body></html>"
    ).encode()


def catalogue_pages(treaties: Iterable[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """The catalogue pages that list `treaties` ((id, title) pairs), as (target, body): the
    chapter list, each chapter's page (`subid=A`, as the chapter list links it) and, for a
    chapter whose numbers carry a sub-chapter (XI-A-16), one page per sub-chapter, each
    linking every sub-chapter of its chapter. A sub-chaptered chapter always has its `A`
    page (the chapter list links it); a number without a sub-chapter is listed there."""
    by_page: dict[int, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    seen: set[str] = set()
    for treaty_id, title in treaties:
        if treaty_id in seen:
            continue
        seen.add(treaty_id)
        number = parse_treaty_id(treaty_id)
        by_page[number.chapter][number.subchapter or "A"].append((treaty_id, title))
    pages: list[tuple[str, bytes]] = []
    for chapter in sorted(by_page):
        subs = by_page[chapter]
        lettered = any(subchapter_of(t) for listed in subs.values() for t, _ in listed)
        nav = sorted(set(subs) | {"A"}) if lettered else []
        for sub in nav or ["A"]:
            target = _target(chapter_url(_BASE, chapter, sub))
            pages.append((target, chapter_page(chapter, subs.get(sub, []), sub, nav)))
    pages.append((_target(index_url(_BASE)), index_page(by_page)))
    return pages


def rewrite_treaty_id(body: bytes, old: str, new: str) -> bytes:
    """Make a recorded status page claim to be treaty `new` (for load tests on many ids)."""
    pattern = re.compile(rb"mtdsg_no=" + re.escape(old.encode()) + rb"(?=&|\"|')")
    return pattern.sub(b"mtdsg_no=" + new.encode(), body)


def untc_site(pages: Iterable[RecordedPage]) -> list[tuple[str, bytes, str]]:
    """Every page of a UNTC mirror as (target, body, content type): the catalogue pages that
    list every recorded treaty (once, whether it has an HTML page, an XML file or both: a
    `--format xml` crawl follows the same chapter pages), and each recorded page at its UNTC
    address (a tracker.devtools.mirror.Mirror serves them)."""
    site: list[tuple[str, bytes, str]] = []
    html_type = "text/html; charset=utf-8"
    listed: list[tuple[str, str]] = []
    for page in pages:
        build = xml_url if page.fmt == "xml" else status_page_url
        ctype = "text/xml; charset=iso-8859-1" if page.fmt == "xml" else html_type
        site.append((_target(build(_BASE, page.treaty_id)), page.body, ctype))
        listed.append((page.treaty_id, page.title))  # catalogue_pages lists each id once
    site += [(target, body, html_type) for target, body in catalogue_pages(listed)]
    return site


def demo_site(pages: Iterable[tuple[str, bytes, str]]) -> list[tuple[str, bytes, str]]:
    """`tracker demo`'s mirror of accepted HTML status pages given as (treaty id, body, title)."""
    return untc_site(RecordedPage(treaty_id, body, title) for treaty_id, body, title in pages)
