"""Real pages, disguised: re-encoded, NFD-normalized, script-stuffed, mislabelled. The parse must
be the same status (same content hash) or a quarantine with the reason, never other names."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

import pytest

from tracker.sources import PageRejected, untc

# slow: reads the real depositary pages of ../shared (hundreds of files) to set up
pytestmark = pytest.mark.slow

PAGES = ("XXVI-9__tpnw.html", "XXVI-5__ottawa.html", "IV-5__iccpr_op1.html")


@pytest.fixture(scope="module", params=PAGES)
def real(request, real_root: Path):
    path = real_root / "untc_viewdetails_html_2026-02-03" / request.param
    body = path.read_bytes()
    return body, untc.parse(body, url=str(path), content_type="text/html; charset=utf-8")


def _parse(body: bytes, content_type: str | None = None):
    return untc.parse(
        body, url="https://treaties.un.org/Pages/ViewDetails.aspx", content_type=content_type
    )


def test_real_page_as_utf16_with_a_bom_is_the_same_status(real) -> None:
    body, status = real
    text = body.decode("utf-8")
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        again = _parse(bom + text.encode(codec), "text/html; charset=utf-8")
        assert again.content_hash() == status.content_hash()


def test_real_page_in_nfd_is_the_same_status(real) -> None:
    body, status = real
    nfd = unicodedata.normalize("NFD", body.decode("utf-8")).encode("utf-8")
    assert nfd != body
    assert _parse(nfd).content_hash() == status.content_hash()


def test_real_page_with_scripts_and_comments_in_every_cell_is_the_same_status(real) -> None:
    body, status = real
    text = body.decode("utf-8")
    stuffed = re.sub(
        r"<td([^>]*)>",
        r"<td\1><script>document.write('1 Jan 1999 Narnia')</script><!-- 2 Feb 2000 -->"
        r"<style>td::after{content:'3'}</style>",
        text,
    )
    stuffed = stuffed.replace("<index></index>", "<index></index><script>'x'</script>")
    assert stuffed.count("<script>") > len(status.participants)
    assert _parse(stuffed.encode("utf-8")).content_hash() == status.content_hash()


def test_real_page_with_control_characters_is_the_same_status(real) -> None:
    body, status = real
    dirty = body.replace(b"<br></td>", b"\x01\x7f\xc2\x85<br></td>").replace(b"</a>", b"\x1b</a>")
    assert _parse(dirty).content_hash() == status.content_hash()


def test_real_utf8_page_labelled_latin1_is_quarantined(real) -> None:
    body, _ = real
    with pytest.raises(
        PageRejected, match="labelled cp1252 \\(HTTP charset\\) but its bytes are UTF-8"
    ):
        _parse(body, "text/html; charset=ISO-8859-1")


def test_real_page_transcoded_to_latin1_but_still_labelled_utf8_is_quarantined(real) -> None:
    body, status = real
    latin = body.decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")
    with pytest.raises(PageRejected, match="does not decode as utf-8"):
        _parse(latin)  # its <meta> says utf-8
    assert _parse(latin, "text/html; charset=windows-1252").content_hash() == status.content_hash()
