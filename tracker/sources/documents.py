"""A fetched HTML page as an lxml tree, decoded as a browser would, for every source's parser.

The body is decoded strictly (tracker.sources.encoding: an undecodable page is rejected, never
guessed), control characters are removed, and the text is re-encoded as UTF-8 and parsed with
that encoding forced: a <meta charset> inside can no longer switch libxml2 to another decoding
halfway through the document.
"""

from __future__ import annotations

from lxml import etree

from tracker.sources import PageRejected
from tracker.sources.encoding import UndecodablePage, decode
from tracker.sources.text import strip_controls


def html_root(body: bytes, content_type: str | None) -> etree._Element:
    """The page's root element (PageRejected: undecodable, empty or unreadable)."""
    try:
        decoded = decode(body, content_type)
    except UndecodablePage as exc:
        raise PageRejected(str(exc)) from None
    text = strip_controls(decoded.text)
    root = etree.fromstring(text.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    if root is None:
        raise PageRejected("empty or unreadable HTML document")
    return root
