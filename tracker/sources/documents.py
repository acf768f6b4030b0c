"""A fetched HTML page as an lxml tree, decoded as a browser would, for every source's parser.

The body is decoded strictly (tracker.sources.encoding: an undecodable page is rejected, never
guessed), control characters are removed, and the text is re-encoded as UTF-8 and parsed with
that encoding forced: a <meta charset> inside can no longer switch libxml2 to another decoding
halfway through the document.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Set

from lxml import etree

from tracker.sources import PageRejected
from tracker.sources.encoding import UndecodablePage, decode
from tracker.sources.text import NOT_TEXT, strip_controls, utf8_has_controls


def html_root(body: bytes, content_type: str | None) -> etree._Element:
    """The page's root element (PageRejected: undecodable, empty or unreadable)."""
    try:
        decoded = decode(body, content_type)
    except UndecodablePage as exc:
        raise PageRejected(str(exc)) from None
    if decoded.encoding == "utf-8":
        # The bytes as they came (without a BOM) when stripping would change nothing: the text
        # re-encoded as UTF-8 would be these very bytes, so the tree is the same.
        payload = body[len(codecs.BOM_UTF8) :] if decoded.origin == "BOM" else body
        if utf8_has_controls(payload):
            payload = strip_controls(decoded.text).encode("utf-8")
    else:
        payload = strip_controls(decoded.text).encode("utf-8")
    root = etree.fromstring(payload, etree.HTMLParser(encoding="utf-8"))
    if root is None:
        raise PageRejected("empty or unreadable HTML document")
    return root


# Tags text_nodes() is mostly asked about, known to be text (a shortcut past tag_of()).
_CELL_TAGS = frozenset({"td", "th", "div", "span", "a", "strong", "p"})


def tag_of(el: etree._Element) -> str:
    """The element's tag, lower case; "" for a comment or a processing instruction."""
    return el.tag.lower() if isinstance(el.tag, str) else ""


def text_nodes(el: etree._Element, skip: Iterable[etree._Element] = (), sup: bool = True) -> str:
    """The text nodes of an element, in document order, as printed (not cleaned): `<br>` is a
    space; script, style, template, comments and processing instructions give nothing, nor the
    `skip` elements; `<sup>` (footnote markers) only when `sup`."""
    tag = el.tag
    if tag not in _CELL_TAGS and (not (tag := tag_of(el)) or tag in NOT_TEXT):
        return ""
    # A leaf (most table cells), or a text with one trailing <br>: no walk needed.
    count = len(el)
    if count == 0:
        return el.text or ""
    if count == 1:
        child = el[0]
        if child.tag == "br":
            return (el.text or "") + " " + (child.tail or "")
    parts: list[str] = []
    _walk(el, parts, set(skip) if skip else _NOTHING, sup)
    return "".join(parts)


_NOTHING: frozenset[etree._Element] = frozenset()


def _walk(node: etree._Element, parts: list[str], skipped: Set[etree._Element], sup: bool) -> None:
    """text_nodes()'s walk: a module-level function, not a closure calling itself (that would be
    a reference cycle per call, left to the garbage collector). Each text is read once (lxml
    makes a new str at every read)."""
    if text := node.text:
        parts.append(text)
    for child in node:
        tag = child.tag
        tag = tag.lower() if isinstance(tag, str) else ""  # tag_of(), inlined
        if tag == "br":
            parts.append(" ")
        elif tag and tag not in NOT_TEXT and (sup or tag != "sup") and child not in skipped:
            _walk(child, parts, skipped, sup)
        if tail := child.tail:
            parts.append(tail)
