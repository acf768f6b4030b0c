"""Build a WIPO Lex mirror: each recorded Contracting Parties page under its own WIPO address
(a tracker.devtools.mirror.Mirror serves them: `build_mirror(root, wipo_site(pages))`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.sources.wipo.urls import status_page_url

_BASE = "http://mirror.invalid"
HTML = "text/html; charset=utf-8"

# Where `tracker demo` finds recorded Contracting Parties pages (tracker.devtools.demo): the real
# captures' folder under ../shared/fixtures/real, else the project's own (tests/fixtures/wipo).
RECORDED_FOLDER = "wipo_lex_html_2026-02-03"
RECORDED_LABEL = "the real WIPO Lex Contracting Parties pages recorded on 3 Feb 2026"
FIXTURES_FOLDER = "wipo"
# The catalogue is configured (tracker/sources/wipo/treaties.py), not a page: a whole-catalogue
# crawl asks for all 26 treaties, so the demo crawls the treaties it has pages for.
CATALOGUE_FROM_PAGES = False


@dataclass(frozen=True)
class RecordedPage:
    treaty_id: str
    body: bytes


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def status_target(treaty_id: str) -> str:
    """The path and query of a treaty's Contracting Parties page."""
    return _target(status_page_url(_BASE, treaty_id))


def wipo_site(pages: Iterable[RecordedPage]) -> list[tuple[str, bytes, str]]:
    """Every page of a WIPO Lex mirror as (target, body, content type)."""
    return [(status_target(page.treaty_id), page.body, HTML) for page in pages]


def demo_site(pages: Iterable[tuple[str, bytes, str]]) -> list[tuple[str, bytes, str]]:
    """`tracker demo`'s mirror of accepted status pages given as (treaty id, body, title)."""
    return wipo_site(RecordedPage(treaty_id, body) for treaty_id, body, _title in pages)
