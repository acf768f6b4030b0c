"""UN Treaty Collection source (`untc`): picks the HTML or MTDSG XML parser for a fetched body."""

from __future__ import annotations

import codecs
from urllib.parse import urlparse

from tracker.domain.models import TreatyStatus
from tracker.sources import PageRejected
from tracker.sources.untc.html import parse_html
from tracker.sources.untc.xml import parse_xml

__all__ = ["is_xml", "page_format", "parse", "parse_html", "parse_xml"]


def is_xml(body: bytes, url: str) -> bool:
    """True when the body starts like XML (`<?xml`, `<Document`) or the URL path ends in `.xml`."""
    head = body[:512]
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    head = head.lstrip()
    if head.startswith((b"<?xml", b"<Document")):
        return True
    return urlparse(url).path.lower().endswith(".xml")


def page_format(body: bytes, url: str) -> str:
    """`xml` for an MTDSG XML file, else `html` (a ViewDetails page): the parser's own choice."""
    return "xml" if is_xml(body, url) else "html"


def parse(
    body: bytes, *, url: str, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Parse and validate one UNTC page (ViewDetails HTML or MTDSG XML); PageRejected if not.

    `content_type` is the HTTP Content-Type the page came with: its charset decides the
    encoding unless the body starts with a byte order mark (tracker.sources.encoding)."""
    if not body or body.isspace():  # all ASCII whitespace: not body.strip(), without a copy
        raise PageRejected("empty response body")
    if is_xml(body, url):
        return parse_xml(body, expected_treaty=expected_treaty, content_type=content_type)
    try:
        return parse_html(body, expected_treaty=expected_treaty, content_type=content_type)
    except PageRejected:
        raise
    except Exception as exc:
        raise PageRejected(f"status page could not be read: {type(exc).__name__}: {exc}") from exc
