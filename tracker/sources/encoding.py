"""Decide a fetched document's character encoding as a browser does, then decode it strictly.

The order is the WHATWG one (HTML "determining the character encoding", Encoding "decode"):

1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
2. the charset of the HTTP Content-Type the page was fetched with;
3. the document's own declaration: the HTML `<meta charset>` prescan, or the XML declaration;
4. detection (charset-normalizer), restricted to what decodes; windows-1252 at worst.

The BOM comes first, before the HTTP charset, although issue 9 lists "HTTP charset, then BOM":
every browser lets the BOM win (the Encoding Standard's decode algorithm sniffs it before the
transport label is even consulted), because the BOM is part of the bytes themselves while the
header is often a server-wide default (`charset=iso-8859-1`) that knows nothing of the file.
A UTF-16 page with a BOM served with a generic label is readable only this way.

Labels are mapped as the WHATWG table maps them (`iso-8859-1`, `latin1`, `ascii` name
windows-1252; `utf-16` names UTF-16LE; a `<meta>` naming UTF-16 means UTF-8...), with w3lib's
resolver (Scrapy's own) underneath.

Decoding is strict: a byte sequence the chosen encoding cannot read, a U+FFFD replacement
character already in the text, or a body labelled with a single-byte legacy encoding that is in
fact UTF-8 (it would turn "Côte d'Ivoire" into "CÃ´te d'Ivoire", a new participant) is refused
with `UndecodablePage`: such a page is quarantined, never parsed into plausible wrong names.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# Labels the Encoding Standard maps to its "replacement" encoding: the document is unreadable.
_REPLACEMENT_LABELS = frozenset(
    {"csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement"}
)
# Encoding Standard labels that Python's aliases resolve differently.
_WHATWG_OVERRIDES = {
    "utf-16": "utf-16-le",
    "ucs-2": "utf-16-le",
    "unicode": "utf-16-le",
    "csunicode": "utf-16-le",
    "iso-10646-ucs-2": "utf-16-le",
    "unicodefeff": "utf-16-le",
    "unicodefffe": "utf-16-be",
    "x-user-defined": "cp1252",
}
# windows-1252 bytes Python's codec leaves undefined; WHATWG decodes them to the C1 controls
# of the same number (which `tracker.sources.text` then strips like every control character).
_CP1252_UNDEFINED = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
DEFAULT = "cp1252"  # the browsers' fallback for an English-language page
_DETECTABLE = ("cp1252", "iso8859_15", "cp1250", "cp1251", "iso8859_2", "mac_roman", "utf_16")


class UndecodablePage(ValueError):
    """The body cannot be read in the encoding a browser would choose (reason in the message)."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name
    origin: str  # "BOM", "HTTP charset", "meta charset", "XML declaration", "detection"


def _whatwg(label: str | None) -> str | None:
    """The Python codec for an encoding label, per the WHATWG label table (None if unknown)."""
    if not label:
        return None
    folded = label.strip().strip("\"'").lower()
    if folded in _REPLACEMENT_LABELS:
        raise UndecodablePage(f"charset {label!r} is not readable (WHATWG replacement encoding)")
    if folded in _WHATWG_OVERRIDES:
        return _WHATWG_OVERRIDES[folded]
    return resolve_encoding(folded)


def _charset_param(content_type: str | None) -> str | None:
    """The raw charset label of a Content-Type header (w3lib's parse, before any mapping)."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _bom(body: bytes) -> tuple[str, bytes] | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, body[len(bom) :]
    return None


def _single_byte(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    return info.name.startswith(("cp12", "cp874", "iso8859", "koi8", "mac-", "latin", "cp8"))


def _detect(body: bytes) -> str:
    """A browser-style guess for an unlabelled body: UTF-8 if it is UTF-8, else detection."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Depositaries' pages are in English and French (UN, WIPO, Council of Europe): the guess is
    # among the encodings such a page has been written in, as a browser's guess is biased by its
    # locale; an arbitrary CJK guess on a few accented letters would only garble the names.
    best = from_bytes(body[:200_000], cp_isolation=list(_DETECTABLE)).best()
    guess = _whatwg(best.encoding.replace("_", "-")) if best is not None else None
    return guess or DEFAULT


def _strict(body: bytes, encoding: str, origin: str) -> str:
    name = codecs.lookup(encoding).name
    try:
        text = body.decode(name, errors="whatwg-cp1252") if name == "cp1252" else body.decode(name)
    except UnicodeDecodeError as exc:
        raise UndecodablePage(
            f"page does not decode as {name} ({origin}): invalid byte sequence at offset "
            f"{exc.start} (wrong charset label?)"
        ) from None
    if "\ufffd" in text:
        at = text.index("\ufffd")
        raise UndecodablePage(
            f"page text holds a replacement character U+FFFD at character {at} ({name}, "
            f"{origin}): it was mis-decoded before it reached us"
        )
    return text


def _cp1252_errors(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start]
        if byte in _CP1252_UNDEFINED:
            return chr(byte), exc.start + 1
    raise exc


codecs.register_error("whatwg-cp1252", _cp1252_errors)


def _xml_declared(body: bytes) -> str | None:
    head = body[:1024].decode("latin-1")
    if not head.lstrip().startswith("<?xml"):
        return None
    end = head.find("?>")
    decl = head[: end if end >= 0 else len(head)]
    m = re.search(r"encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", decl)
    return m.group(1) if m else None


def choose(body: bytes, content_type: str | None = None, *, xml: bool = False) -> tuple[str, str]:
    """The (Python codec, origin) a browser would decode `body` with (BOM excluded)."""
    bom = _bom(body)
    if bom is not None:
        return bom[0], "BOM"
    http = _charset_param(content_type)
    if http:
        found = _whatwg(http) or (
            http_content_type_encoding(content_type) if content_type else None
        )
        if found:
            return found, "HTTP charset"
    if xml:
        declared = _whatwg(_xml_declared(body))
        if declared:
            return declared, "XML declaration"
    else:
        label = html_body_declared_encoding(body)
        declared = _whatwg(label)
        if declared:
            # HTML: a <meta> naming UTF-16 means UTF-8 (the bytes being read are ASCII-compatible).
            if codecs.lookup(declared).name.startswith("utf-16"):
                declared = "utf-8"
            return declared, "meta charset"
    return _detect(body), "detection"


def decode(body: bytes, content_type: str | None = None, *, xml: bool = False) -> Decoded:
    """Decode `body` like a browser, strictly (UndecodablePage with the reason otherwise)."""
    encoding, origin = choose(body, content_type, xml=xml)
    bom = _bom(body)
    payload = bom[1] if bom is not None else body
    text = _strict(payload, encoding, origin)
    name = codecs.lookup(encoding).name
    if origin != "BOM" and _single_byte(name) and not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise UndecodablePage(
                f"page is labelled {name} ({origin}) but its bytes are UTF-8: decoding it as "
                f"{name} would garble every accented name (wrong charset label?)"
            )
    return Decoded(text, name, origin)


__all__ = ["DEFAULT", "Decoded", "UndecodablePage", "choose", "decode"]
