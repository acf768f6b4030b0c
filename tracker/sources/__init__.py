"""What a depositary's page means: one pure parser package per source slug (no Scrapy, no I/O).

`parse(slug, body, url=..., expected_treaty=..., content_type=...)` returns a validated `TreatyStatus` or raises
`PageRejected` with a reason a person can act on. A rejected page never becomes a snapshot.
The sources themselves are specs in `tracker.sources.registry`; `SOURCES` is their slugs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.domain.models import TreatyStatus


class PageRejected(ValueError):
    """The page is not a valid status page (maintenance page, wrong treaty, counts disagree...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Parser = Callable[..., TreatyStatus]


def __getattr__(name: str) -> Any:
    """`SOURCES`: the registered slugs, read from the registry when asked (no import cycle:
    a source's parser imports PageRejected from here)."""
    if name == "SOURCES":
        from tracker.sources.registry import slugs

        return slugs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse(
    slug: str,
    body: bytes,
    *,
    url: str,
    expected_treaty: str | None = None,
    content_type: str | None = None,
) -> TreatyStatus:
    """Parse and validate one fetched page of source `slug`; `content_type` is the HTTP
    Content-Type header it was fetched with (its charset counts in choosing the encoding)."""
    from tracker.sources.registry import get

    parser = get(slug).parse  # UnknownSource (a KeyError) naming the known ones
    return parser(body, url=url, expected_treaty=expected_treaty, content_type=content_type)
