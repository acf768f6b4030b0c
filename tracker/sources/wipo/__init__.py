"""WIPO Lex source (`wipo`): the Contracting Parties page of each WIPO-administered treaty."""

from __future__ import annotations

from tracker.domain.models import TreatyStatus
from tracker.sources import PageRejected
from tracker.sources.wipo.page import parse_page

__all__ = ["parse", "parse_page"]


def parse(
    body: bytes, *, url: str, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Parse and validate one WIPO Lex Contracting Parties page; PageRejected if it is not one.
    `url` is where it was fetched (the page's own canonical link names its treaty)."""
    if not body or body.isspace():  # all ASCII whitespace: not body.strip(), without a copy
        raise PageRejected("empty response body")
    try:
        return parse_page(body, expected_treaty=expected_treaty, content_type=content_type)
    except PageRejected:
        raise
    except Exception as exc:
        raise PageRejected(f"status page could not be read: {type(exc).__name__}: {exc}") from exc
