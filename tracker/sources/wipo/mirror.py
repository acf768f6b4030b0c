"""Build a WIPO Lex mirror: each recorded Contracting Parties page under its own WIPO address
(a tracker.devtools.mirror.Mirror serves them: `build_mirror(root, wipo_site(pages))`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.sources.wipo.urls import status_page_url

_BASE = "http://mirror.invalid"
HTML = "text/html; charset=utf-8"


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
