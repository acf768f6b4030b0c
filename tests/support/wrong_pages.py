"""Status pages for the fault-injection suite: a good page per treaty, and the wrong pages a
hostile or broken site serves in its place (plausible and implausible), as bytes.

The good page (`good_page`) is UNTC's ViewDetails markup (tests/support/untc_render.py) with names
that carry diacritics (Côte d'Ivoire, Türkiye, and an organization without an ISO code, so its
identity is its printed name), an accession, an approval, and a footnote. Every wrong page below
is built from it, so a test can tell exactly what the tracker should have kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date

from support.untc_render import Page, Row, render

MAINTENANCE = (
    b"<!DOCTYPE html><html><head><title>United Nations Treaty Collection</title></head><body>"
    b"<h1>Site under maintenance</h1><p>The Treaty Collection is being updated. "
    b"Please come back later.</p></body></html>"
)
FOOTNOTE = "Declaration made upon ratification: see depositary notification C.N.12.2018."
ORGANIZATION = "Union économique et monétaire ouest-africaine"  # no ISO code: keyed by its name


def good_rows() -> list[Row]:
    return [
        Row("Algeria", signature=date(2017, 9, 20)),
        Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8), footnotes=("1",)),
        Row("Cook Islands", consent=date(2018, 9, 4), letter="a"),
        Row("Côte d'Ivoire", signature=date(2018, 2, 1), consent=date(2019, 6, 3)),
        Row("Türkiye", signature=date(2017, 9, 21)),
        Row(ORGANIZATION, signature=date(2019, 1, 15)),
        Row("Viet Nam", signature=date(2017, 9, 22), consent=date(2020, 5, 17), letter="AA"),
    ]


def good_page(treaty: str, stamp: str = "03-02-2026 10:16:18 EDT", **changes: object) -> Page:
    page = Page(
        treaty,
        f"Convention on the fault-injection test case {treaty}",
        good_rows(),
        status_as_at=stamp,
        footnotes={"1": FOOTNOTE},
    )
    return replace(page, **changes) if changes else page  # type: ignore[arg-type]


def good(treaty: str, stamp: str = "03-02-2026 10:16:18 EDT") -> bytes:
    return render(good_page(treaty, stamp))


# --- implausible pages: the parser's validation must refuse them ------------------------------


def layout_change(treaty: str) -> bytes:
    """The participants table under a new id (a redesign): no table the parser knows."""
    return good(treaty).replace(b"_tblgrid", b"_gvParticipantsNew")


def empty_table(treaty: str) -> bytes:
    """The header row only (and counts of 0 printed)."""
    return render(good_page(treaty, rows=[]))


def shrunken(treaty: str, keep: int = 3) -> bytes:
    """Rows missing from the table while the printed counts stay as they were."""
    page = good_page(treaty)
    full = render(page)
    sigs, pars = _counts(full)
    return render(
        replace(page, rows=page.rows[:keep], printed_signatories=sigs, printed_parties=pars)
    )


def another_treaty(treaty: str, other: str) -> bytes:
    """The status page of `other`, served at `treaty`'s address."""
    return good(other)


# --- plausible wrong pages: valid, self-consistent, wrong -------------------------------------


def shrunken_with_counts(
    treaty: str, keep: int = 3, stamp: str = "03-02-2026 10:16:18 EDT"
) -> bytes:
    """Rows missing and the printed counts edited to match: passes every validation. The
    participants that vanish are Côte d'Ivoire, Türkiye, the organization and Viet Nam."""
    page = good_page(treaty, stamp)
    return render(replace(page, rows=page.rows[:keep]))


VANISHING = ("Côte d'Ivoire", "Türkiye", ORGANIZATION, "Viet Nam")  # with keep=3


# --- encodings --------------------------------------------------------------------------------


def latin1(treaty: str, meta: str | None = None) -> bytes:
    """The page encoded in ISO-8859-1 (é, ô, ü as single bytes: invalid UTF-8), optionally with a
    <meta charset> that lies."""
    body = good(treaty).decode("utf-8").encode("iso-8859-1")
    return with_meta(body, meta) if meta else body


def with_meta(body: bytes, charset: str) -> bytes:
    return body.replace(b"<head>", f'<head><meta charset="{charset}">'.encode(), 1)


def utf16(treaty: str) -> bytes:
    """The page in UTF-16 (little endian) with its byte-order mark, as a browser reads it."""
    return good(treaty).decode("utf-8").encode("utf-16")  # BOM + native (LE) order


def nfd(treaty: str) -> bytes:
    """Every participant name in Unicode NFD ("Co\u0302te d'Ivoire"): the same participants."""
    page = good_page(treaty)
    rows = [replace(r, name=unicodedata.normalize("NFD", r.name)) for r in page.rows]
    body = render(replace(page, rows=rows))
    assert "Co\u0302te".encode() in body
    return body


# --- markup and control characters inside text ------------------------------------------------

_CONTROLS = "\x07\x1b\x7f\x9b"  # BEL, ESC, DEL, CSI (C1)


def scripted(treaty: str) -> bytes:
    """Script, style, comments and control characters inside names, a date cell and the
    footnote. Read from text nodes only, with control characters stripped, the page says exactly
    what the good page says."""
    body = good(treaty).decode("utf-8")
    body = body.replace(
        "<td>Algeria<br>",
        "<td>Alg<!-- a comment -->eria<script>document.write('Narnia')</script>"
        f"<style>td {{ color: red }}</style>{_CONTROLS}<br>",
        1,
    )
    body = body.replace(
        "<td>Cook Islands<br>",
        f"<td>\x07Cook{_CONTROLS[1]} Islands<script type='text/javascript'>var x = '2 Feb 2020 a';"
        "</script><br>",
        1,
    )
    # A dated cell: the script's text looks like a date; the cell's real date is 20 Sep 2017.
    body = body.replace(
        "<td>20 Sep\t 2017 <br></td>",
        "<td>20 Sep<script>'1 Jan 1999'</script>\t 2017\x1b <br></td>",
        1,
    )
    body = body.replace(
        "Declaration made upon ratification:",
        "Declaration made<script>document.write(' and revoked')</script><!-- note --> upon "
        f"ratification:{_CONTROLS[0]}",
        1,
    )
    assert body.count("<script") == 4, "the good page's markup changed: update scripted()"
    return body.encode("utf-8")


# --- helpers ----------------------------------------------------------------------------------


def _counts(body: bytes) -> tuple[int, int]:
    text = body.decode("utf-8", "replace")
    sigs = re.search(r"Signatories :\s*(\d+)", text)
    pars = re.search(r"Parties :\s*(\d+)", text)
    assert sigs and pars
    return int(sigs.group(1)), int(pars.group(1))
