"""Items handed from the spiders to ingestion: plain data, raw bytes, no parsing.

Every item names its page: `page` is the URL the crawl first asked for (before any redirect),
the key under which the crawl accounts for it (spiders.ledger); `url` is where the answer came
from. `cache_key` names the response held back by the HTTP cache until ingestion says whether
it may be stored (spiders.httpcache).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PageItem:
    """A fetched status page, passed unparsed to ingestion (which parses and validates it)."""

    source: str
    url: str
    body: bytes
    fetched_at: str  # ISO 8601, aware UTC
    expected_treaty: str | None = None
    content_type: str | None = None
    revalidated: bool = False  # the cached body, confirmed by a 304 (not a fresh observation)
    page: str | None = None  # the URL asked for (defaults to `url`)
    cache_key: str | None = None


@dataclass
class NavigationPage:
    """A catalogue page (index, chapter or sub-chapter list) and what navigation made of it.

    `outcome` is "accepted" (links followed), "unchanged" (the same, confirmed by a 304) or
    "quarantined" (no links where there must be some: a layout change or an error page).
    """

    source: str
    url: str
    kind: str
    outcome: str
    fetched_at: str
    reason: str | None = None
    body: bytes = b""
    content_type: str | None = None
    revalidated: bool = False
    page: str | None = None
    cache_key: str | None = None


@dataclass
class FetchFailure:
    """A page that could not be fetched (HTTP error after retries, timeout, refused, redirect
    loop, robots.txt...)."""

    source: str
    url: str
    reason: str
    fetched_at: str
    expected_treaty: str | None = None
    body: bytes | None = None
    page: str | None = None
    kind: str = "status"
