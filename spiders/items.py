"""Items handed from the spiders to ingestion: plain data, raw bytes, no parsing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PageItem:
    """A fetched status page, passed unparsed to ingestion (which parses and validates it)."""

    source: str
    url: str
    body: bytes
    status: int
    fetched_at: str  # ISO 8601, aware UTC
    expected_treaty: str | None = None
    content_type: str | None = None
    revalidated: bool = False  # the cached body, confirmed by a 304 (not a fresh observation)


@dataclass
class FetchFailure:
    """A status page that could not be fetched (HTTP error after retries, timeout, DNS...)."""

    source: str
    url: str
    reason: str
    fetched_at: str
    expected_treaty: str | None = None
    body: bytes | None = None
