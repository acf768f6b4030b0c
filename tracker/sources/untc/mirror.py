"""Build a UNTC mirror: status pages under their own URLs, plus the catalogue pages that list them.

No real copy of UNTC's chapter index pages could be recorded, so the catalogue pages
(ParticipationStatus.aspx and Treaties.aspx) are generated here in the site's ASP.NET style
with the site's own link forms; the status pages and XML files are the recorded bytes.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.sources.untc.urls import chapter_of, index_url, status_page_url, xml_url

_BASE = "http://mirror.invalid"


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


def chapter_page(chapter: int, treaties: Iterable[tuple[str, str]]) -> bytes:
    """One chapter's treaty list, linking each ViewDetails status page."""
    rows = "\n".join(
        f'<tr><td><a href="ViewDetails.aspx?src=TREATY&amp;mtdsg_no={html.escape(tid)}'
        f'&amp;chapter={chapter}&amp;clang=_en">{html.escape(title or tid)}</a></td></tr>'
        for tid, title in treaties
    )
    return (
        "<!DOCTYPE html><html><head><title>United Nations Treaty Collection</title></head><body>"
        f'<form name="aspnetForm" method="post" action="./Treaties.aspx?id={chapter}&amp;subid=A&amp;clang=_en">'
        f'<table id="ctl00_ctl00_ContentPlaceHolder1_ContentPlaceHolderInnerPage_dgTreaty">{rows}'
        "</table></form></body></html>"
    ).encode()


def rewrite_treaty_id(body: bytes, old: str, new: str) -> bytes:
    """Make a recorded status page claim to be treaty `new` (for load tests on many ids)."""
    pattern = re.compile(rb"mtdsg_no=" + re.escape(old.encode()) + rb"(?=&|\"|')")
    return pattern.sub(b"mtdsg_no=" + new.encode(), body)


def untc_site(pages: Iterable[RecordedPage]) -> list[tuple[str, bytes, str]]:
    """Every page of a UNTC mirror as (target, body, content type): the catalogue pages and each
    recorded page at its UNTC address (a tracker.devtools.mirror.Mirror serves them)."""
    site: list[tuple[str, bytes, str]] = []
    html_type = "text/html; charset=utf-8"
    by_chapter: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for page in pages:
        build = xml_url if page.fmt == "xml" else status_page_url
        ctype = "text/xml; charset=iso-8859-1" if page.fmt == "xml" else html_type
        site.append((_target(build(_BASE, page.treaty_id)), page.body, ctype))
        if page.fmt == "html":
            by_chapter[chapter_of(page.treaty_id)].append((page.treaty_id, page.title))
    for chapter, treaties in by_chapter.items():
        target = _target(f"{_BASE}/Pages/Treaties.aspx?id={chapter}&subid=A&clang=_en")
        site.append((target, chapter_page(chapter, treaties), html_type))
    site.append((_target(index_url(_BASE)), index_page(by_chapter), html_type))
    return site
