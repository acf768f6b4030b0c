"""Golden parse results: every page the parsers read gives exactly what it gave when recorded.

A guard for parser speed work (issue 15): for every real UNTC ViewDetails page, MTDSG XML file
and WIPO Lex page of ../shared/fixtures/real, every committed fixture page of tests/fixtures, and
hostile variants of those (control and format characters, NFD text, every Unicode whitespace,
scripts/styles/templates/comments inside cells, other encodings, a lying <meta charset>, CRLF),
the sha256 of repr() of the parse result (the TreatyStatus, or the PageRejected reason) must
equal the digest in parse_golden.json. The real pages skip, with the reason, when ../shared is
absent; the fixtures and their variants always run.

Re-record (only when a change of output is intended and reviewed):
    .venv/bin/python tests/conformance/test_parse_golden.py
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tracker.devtools.paths import REAL
from tracker.sources import PageRejected, untc, wipo

GOLDEN = Path(__file__).with_name("parse_golden.json")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ABSENT = f"real fixtures absent: {REAL} (the shared/ folder is not beside the repository)"
UNTC_URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-5&chapter=4"
XML_URL = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20I/Chapter%20IV/IV-5.en.xml"
WIPO_URL = "https://www.wipo.int/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=843"
REAL_KINDS = {"untc_viewdetails_html": "untc", "untc_mtdsg_xml": "untc", "wipo_lex_html": "wipo"}
# Real pages also read through every variant (one of each format, both sources).
VARIED_REAL = ("XXVI-9__tpnw.html", "XXVI-9.en.xml")

Page = tuple[bytes, str | None]  # body, HTTP Content-Type

# Whitespace a sloppy page may carry between words (each folds into one space), cycled through;
# and characters that are no whitespace though they look like it (stripped, or text: the cell or
# name they land in changes, and the page is rejected or read exactly as before).
_SPACES = (
    "\u2028", "\u1680", "\u3000", "\u2009", "\u202f", "\xa0", "\u2007", "\u205f", "\t",
    "\u2029", "\u2000", "\u200a", "\r", "\n", "\u0020",
)  # fmt: skip
_NOT_SPACES = ("\u180e", "\u200b", "\x1c", "\x0b", "\x0c", "\x85", "\x1f", "\u00ad", "\ufeff")
_CONTROLS = ("\x01", "\u200b", "\u00ad", "\ufeff", "\u202e", "\x7f", "\x85", "\u2066", "\x1d")
_TEXT_RE = re.compile(r">([^<>]+)<")


def _cycle(chars: tuple[str, ...]) -> Callable[[re.Match[str]], str]:
    count = [0]

    def pick(_: re.Match[str]) -> str:
        count[0] += 1
        return chars[count[0] % len(chars)]

    return pick


def _in_text(text: str, pattern: str, chars: tuple[str, ...]) -> str:
    """Replace `pattern` inside every text between tags, cycling through `chars`."""
    pick = _cycle(chars)
    return _TEXT_RE.sub(lambda m: ">" + re.sub(pattern, pick, m.group(1)) + "<", text)


def _utf8(body: bytes) -> str:
    return body.decode("utf-8", errors="surrogateescape")


def _back(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _html_variants(body: bytes) -> dict[str, Page]:
    text = _utf8(body)
    hostile = re.sub(
        r"(?i)(<td[^>]*>)",
        r"\1<!-- x --><script>Fake 1 Jan 2000</script><template>T</template><style>s</style>",
        text,
    )
    meta = re.sub(r"(?i)<head>", '<head><meta charset="iso-8859-1">', text, count=1)
    return {
        "plain": (body, None),
        "http_utf8": (body, "text/html; charset=utf-8"),
        "controls": (_back(_in_text(text, r"(?<=\w)(?=\w)", _CONTROLS)), None),
        "nfd": (_back(unicodedata.normalize("NFD", text)), "text/html; charset=utf-8"),
        "spaces": (_back(_in_text(text, " ", _SPACES)), "text/html; charset=utf-8"),
        "not_spaces": (_back(_in_text(text, " ", _NOT_SPACES)), "text/html; charset=utf-8"),
        "hostile_markup": (_back(hostile), None),
        "cp1252": (text.encode("cp1252", "xmlcharrefreplace"), "text/html; charset=windows-1252"),
        "utf16": (b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass"), None),
        "meta_latin1": (_back(meta), None),
        "crlf": (_back(text.replace("\r\n", "\n").replace("\n", "\r\n")), None),
        "sup_in_names": (_back(re.sub(r"(?i)(<td[^>]*>)([A-Z])", r"\1<sup>7</sup>\2", text)), None),
    }


def _xml_variants(body: bytes) -> dict[str, Page]:
    text = body.decode("latin-1")  # byte-transparent, whatever the file's encoding
    literal = text.replace("</Entry>", "&lt;script&gt;x&lt;/script&gt;&lt;!-- c --&gt;</Entry>")
    literal = literal.replace(
        "</Titlesect>", "&lt;i&gt;i&lt;/i&gt; &lt;b &gt;b&lt;/b&gt;</Titlesect>"
    )
    return {
        "plain": (body, None),
        "controls": (_in_text(text, r"(?<=[a-z])(?=[a-z])", ("\x02", "\x7f", "\x81")).encode(
            "latin-1"
        ), None),
        "punctuation": (_in_text(text, r"(?<=[a-z])(?=[a-z])", ("\x13", "\x18", "\x1d")).encode(
            "latin-1"
        ), None),
        "spaces": (_in_text(text, " ", ("\t", "\xa0", "\n", " ")).encode("latin-1"), None),
        "not_spaces": (_in_text(text, " ", ("\x85", "\x0c", "\x1c")).encode("latin-1"), None),
        "literal_markup": (literal.encode("latin-1"), None),
        "amp": (text.replace("</text>", " &amp; & &nbsp;</text>").encode("latin-1"), None),
        "http_utf8": (body, "text/xml; charset=utf-8"),
        "crlf": (text.replace("\r\n", "\n").replace("\n", "\r\n").encode("latin-1"), None),
    }  # fmt: skip


def _result(source: str, url: str, page: Page) -> str:
    body, content_type = page
    parser = untc.parse if source == "untc" else wipo.parse
    try:
        return repr(parser(body, url=url, content_type=content_type))
    except PageRejected as exc:
        return "PageRejected: " + exc.reason
    except Exception as exc:  # noqa: BLE001 - recorded as is: it must stay the same
        return f"{type(exc).__name__}: {exc}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def _pages(path: Path, source: str, xml: bool, varied: bool) -> dict[str, tuple[str, str, Page]]:
    body = path.read_bytes()
    url = XML_URL if xml else (UNTC_URL if source == "untc" else WIPO_URL)
    if not varied:
        return {"plain": (source, url, (body, None))}
    variants = _xml_variants(body) if xml else _html_variants(body)
    return {name: (source, url, page) for name, page in variants.items()}


def fixture_results() -> dict[str, str]:
    """Digest per committed fixture page and variant."""
    found: dict[str, str] = {}
    for path in sorted(FIXTURES.glob("*/*")):
        if path.suffix not in (".html", ".xml"):
            continue
        source = path.parent.name
        for variant, (src, url, page) in _pages(path, source, path.suffix == ".xml", True).items():
            key = f"tests/fixtures/{source}/{path.name}#{variant}"
            found[key] = _digest(_result(src, url, page))
    return found


def real_results(kind: str) -> dict[str, str]:
    """Digest per real page of one kind (and variant, for VARIED_REAL)."""
    index = json.loads((REAL / "index.json").read_text("utf-8"))
    found: dict[str, str] = {}
    for entry in (e for e in index if e["kind"] == kind):
        path = REAL.parent.parent / entry["path"]
        source = REAL_KINDS[kind]
        varied = path.name in VARIED_REAL
        for variant, (src, _, page) in _pages(path, source, kind.endswith("xml"), varied).items():
            found[f"{entry['path']}#{variant}"] = _digest(_result(src, entry["original_url"], page))
    return found


def _golden(prefix: str) -> dict[str, str]:
    recorded: dict[str, str] = json.loads(GOLDEN.read_text("utf-8"))
    return {k: v for k, v in recorded.items() if k.startswith(prefix)}


def _compare(expected: dict[str, str], actual: dict[str, str]) -> None:
    assert expected, "no golden digests recorded for this group"
    changed = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    assert not changed, f"{len(changed)} parse results changed: {changed[:20]}"


def test_fixture_pages_parse_as_recorded() -> None:
    _compare(_golden("tests/fixtures/"), fixture_results())


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(REAL_KINDS))
def test_real_pages_parse_as_recorded(kind: str) -> None:
    if not (REAL / "index.json").exists():
        pytest.skip(ABSENT)
    _compare(_golden(f"fixtures/real/{kind}_"), real_results(kind))


def test_a_changed_result_is_caught() -> None:
    """The digest sees a one-character change of any field (the guard can fail)."""
    base = _result("untc", UNTC_URL, (((FIXTURES / "untc" / "viewdetails_3col.html").read_bytes(),
                                       None)))  # fmt: skip
    assert base.startswith("TreatyStatus(")
    assert _digest(base) != _digest(base.replace("Austria", "Austrib", 1))


def main(argv: list[str]) -> int:
    found = fixture_results()
    if (REAL / "index.json").exists():
        for kind in sorted(REAL_KINDS):
            found.update(real_results(kind))
    else:
        print(f"warning: {ABSENT}; only the fixtures are recorded", file=sys.stderr)
    GOLDEN.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"recorded {len(found)} digests in {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
