"""The declarations, reservations, objections and notifications a UNTC status page prints after
its footnotes (after `<a name="EndDec">`, where the participant cell's ShowDeclarationsNew link
points): one table per section, its id ending in `_dgDec` (declarations and reservations),
`_dgDecUnderArticle` (declarations under an article, e.g. recognizing a committee's
competence), `_dgObj` (objections) or `_dgNotifications` (e.g. derogations); each row a
`div[id$=_divParticipant]` (the name, then footnote markers in `<sup>`) and a `div[id$=_divText]`
(`_divNotificationText`; the words, which repeat the name in a `<p class='invisible'>`, left out).

Pure: lxml elements in, domain values out; text from text nodes only (script, style, template,
comments and hidden repeats give nothing); paragraphs kept as lines.
"""

from __future__ import annotations

from lxml import etree

from tracker.domain.models import Declaration
from tracker.sources.countries import iso3
from tracker.sources.documents import tag_of
from tracker.sources.text import NOT_TEXT, clean, clean_lines, split_refs

# Table id suffix -> section (tracker.domain.models.DECLARATION_SECTIONS).
TABLES: dict[str, str] = {
    "_dgDec": "declarations",
    "_dgDecUnderArticle": "declarations_under_article",
    "_dgObj": "objections",
    "_dgNotifications": "notifications",
}
# The words' div: `_divText`, or `_divNotificationText` in the notifications' table.
_TEXTS = ("_divText", "_divNotificationText")
_BLOCKS = frozenset({"p", "div", "br", "center", "li", "tr", "table"})


_tag = tag_of


def _hidden(el: etree._Element) -> bool:
    classes = el.get("class")
    if classes and "invisible" in classes.split():
        return True
    style = el.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()


def text_lines(el: etree._Element, sup: bool = True) -> str:
    """The text nodes of `el` as lines (a line per paragraph or `<br>`), each cleaned; hidden
    elements (class `invisible`, `display:none`), scripts, styles and templates give nothing,
    nor `<sup>` (footnote markers) unless `sup`."""
    if len(el) == 0:  # a leaf: its own text, as lines
        text = el.text or ""
    else:
        parts: list[str] = []
        _walk(el, parts, sup)
        text = "".join(parts)
    return clean_lines(text)  # each line cleaned, the empty ones left out


def _walk(node: etree._Element, parts: list[str], sup: bool) -> None:
    """text_lines()'s walk: a module-level function, not a closure calling itself (that would
    be a reference cycle per call, left to the garbage collector)."""
    append = parts.append
    if text := node.text:  # each text read once: lxml makes a new str at every read
        append(text)
    for child in node:
        tag = child.tag
        tag = tag.lower() if isinstance(tag, str) else ""  # tag_of(), inlined
        if tag == "br":  # void in libxml2's HTML trees (no text, no children): a line break
            append("\n")
        else:
            block = tag in _BLOCKS
            if block:
                append("\n")
            if tag and tag not in NOT_TEXT and (sup or tag != "sup") and not _hidden(child):
                if len(child):
                    _walk(child, parts, sup)
                elif text := child.text:  # a leaf: its text is all a walk would find
                    append(text)
            if block:
                append("\n")
        if tail := child.tail:
            append(tail)


def _in_template(el: etree._Element) -> bool:
    return any(_tag(a) in NOT_TEXT for a in el.iterancestors())


def read_declarations(root: etree._Element) -> tuple[Declaration, ...]:
    """Every section's entries in page order (a section absent from the page gives none; a
    row without a participant name or without words is skipped)."""
    found: list[Declaration] = []
    for table in root.iter("table"):
        ident = table.get("id") or ""
        section = next((s for suffix, s in TABLES.items() if ident.endswith(suffix)), None)
        if section is None or _in_template(table):
            continue
        for div in table.iter("div"):
            if not (div.get("id") or "").endswith("_divParticipant"):
                continue
            name = clean(text_lines(div, sup=False).replace("\n", " "))
            refs = tuple(  # iter("sup"): the parser lower-cases tags (html._refs)
                ref for s in div.iter("sup") for ref in split_refs(text_lines(s).replace("\n", " "))
            )
            words = next(
                (d for d in div.itersiblings("div") if (d.get("id") or "").endswith(_TEXTS)),
                None,
            )
            text = text_lines(words) if words is not None else ""
            if name and text:
                found.append(Declaration(name, section, text, iso3(name), refs))
    return tuple(found)
