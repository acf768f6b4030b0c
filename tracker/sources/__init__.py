"""What a depositary's page means: one pure parser module per source slug (no Scrapy, no I/O).

`parse(slug, body, url=..., expected_treaty=..., content_type=...)` returns a validated `TreatyStatus` or raises
`PageRejected` with a reason a person can act on. A rejected page never becomes a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker.domain.models import TreatyStatus


class PageRejected(ValueError):
    """The page is not a valid status page (maintenance page, wrong treaty, counts disagree...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Parser = Callable[..., TreatyStatus]


def _parsers() -> dict[str, Parser]:
    from tracker.sources import untc

    return {"untc": untc.parse}


SOURCES: tuple[str, ...] = ("untc",)


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
    parsers = _parsers()
    if slug not in parsers:
        raise KeyError(f"unknown source {slug!r}; known: {', '.join(sorted(parsers))}")
    return parsers[slug](body, url=url, expected_treaty=expected_treaty, content_type=content_type)
