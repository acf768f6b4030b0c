"""What a page's text is: text nodes only, the browser's encoding decided strictly, no control
characters, names compared in NFC. Each test tries to slip something past the parsers."""

from __future__ import annotations

import codecs
import html
import json
import unicodedata
from datetime import date

import pytest
from support.untc_render import Page, Row, render

from tracker.domain.models import Participant
from tracker.sources import PageRejected, untc
from tracker.sources import parse as parse_source
from tracker.sources.encoding import UndecodablePage, choose, decode
from tracker.sources.text import clean, strip_controls

URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9&chapter=26"
XML_URL = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-9.en.xml"
CIV = "C\u00f4te d'Ivoire"
CIV_HTML = html.escape(CIV).encode()  # as the page prints it (C&#x27;...)


def _page(*rows: Row, **kw) -> Page:
    return Page(
        treaty_id="XXVI-9",
        title="Treaty on the Prohibition of Nuclear Weapons",
        rows=list(rows),
        **kw,
    )


BASE_ROWS = (
    Row("Algeria", signature=date(2017, 9, 20)),
    Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8)),
    Row(CIV, signature=date(2017, 9, 20), consent=date(2021, 3, 23)),
)


def parse(body: bytes, content_type: str | None = None):
    return untc.parse(body, url=URL, expected_treaty="XXVI-9", content_type=content_type)


def reason(body: bytes, content_type: str | None = None) -> str:
    with pytest.raises(PageRejected) as info:
        parse(body, content_type)
    return info.value.reason


@pytest.fixture(scope="module")
def good():
    return parse(render(_page(*BASE_ROWS)))


# --- text nodes only -------------------------------------------------------------------------


def test_script_style_and_comments_in_cells_never_reach_a_name_date_or_footnote(good) -> None:
    body = render(_page(*BASE_ROWS, footnotes={"1": "With a territorial application."}))
    body = body.replace(
        b"<td>Algeria<br></td>",
        b"<td>Alg<!-- Ghana -->eria<script>document.write('Zz')</script>"
        b"<style>td{color:red}</style><br></td>",
    )
    body = body.replace(
        b"<td>18 May\t 2018", b"<td><script>var d='1 Jan 1999'</script>18 May\t 2018"
    ).replace(
        b"<td> &nbsp;8 May\t 2018 <br></td>",
        b"<td> &nbsp;8 May\t 2018 <!-- a --><style>.x{}</style><br></td>",
    )
    body = body.replace(
        b"With a territorial application.",
        b"With a territorial<script>alert(1)</script> application.<!-- hidden -->",
    )
    status = parse(body)
    assert [p.name for p in status.participants] == ["Algeria", "Austria", CIV]
    assert status.participants[0].iso3 == "DZA"
    austria = status.participants[1]
    assert austria.consent is not None and austria.consent.date == date(2018, 5, 8)
    assert status.footnotes[0].text == "With a territorial application."
    assert (
        status.content_hash()
        == parse(
            render(_page(*BASE_ROWS, footnotes={"1": "With a territorial application."}))
        ).content_hash()
    )


def test_a_script_that_holds_a_date_does_not_fill_an_empty_cell(good) -> None:
    body = render(_page(*BASE_ROWS)).replace(
        b"<td>&nbsp;</td>", b"<td>&nbsp;<script>x = '29 Jul 2020'</script></td>", 1
    )
    algeria = parse(body).participants[0]
    assert algeria.consent is None and algeria.actions == good.participants[0].actions


def test_script_inside_footnote_markers_is_not_a_ref() -> None:
    rows = (Row("Algeria", signature=date(2017, 9, 20), footnotes=("2",)), *BASE_ROWS[1:])
    body = render(_page(*rows)).replace(
        b"class='noteIndex'>2</A>", b"class='noteIndex'>2</A><script>'7'</script>"
    )
    assert parse(body).participants[0].footnotes == ("2",)


def test_a_table_inside_a_template_is_not_the_participants_table(good) -> None:
    fake = render(_page(Row("Narnia", signature=date(2017, 9, 20))))
    table = fake[fake.index(b"<table") : fake.index(b"</table>") + len(b"</table>")]
    body = render(_page(*BASE_ROWS))
    body = body.replace(b"<form ", b"<template>" + table + b"</template><form ", 1)
    assert parse(body).content_hash() == good.content_hash()


XML = """<?xml version="1.0" encoding="{enc}"?>
<Document><Treaty><Header><Chapter><Header>CHAPTER XXVI</Header></Chapter>
<ExternalData><Numsect>9</Numsect><Titlesect>Treaty on the Prohibition of Nuclear Weapons</Titlesect>
<Conclusion>New York, 7 July 2017</Conclusion>
<EIF><Label>Not yet in force</Label><Labeltext>in accordance with article 15.</Labeltext></EIF>
<Status><Signatories>2</Signatories><Parties>1</Parties></Status></ExternalData></Header>
<Participants><Table><TGroup>
<Thead><Row><Entry>Participant</Entry><Entry>Signature</Entry><Entry>Ratification, Accession(a)</Entry></Row></Thead>
<Tbody><Rows>
<Row><Entry>{name1}</Entry><Entry>20 Sep 2017</Entry><Entry>{cell}</Entry></Row>
<Row><Entry>{name2}</Entry><Entry>20 Sep 2017</Entry><Entry></Entry></Row>
</Rows></Tbody></TGroup></Table></Participants>
<EndNotes><Note><index>1</index><text>{note}</text></Note></EndNotes>
</Treaty></Document>"""


def _xml(enc: str = "utf-8", **kw: str) -> bytes:
    values = {"name1": "Austria", "name2": "Algeria", "cell": "8 May 2018", "note": "A note."}
    return XML.format(enc=enc, **(values | kw)).encode("utf-8" if enc == "utf-8" else enc)


def test_xml_text_nodes_only() -> None:
    plain = untc.parse(_xml(), url=XML_URL)
    tricked = untc.parse(
        _xml(
            name1="Aus<!-- Ghana -->tria<script>Z</script>",
            name2="Algeria&lt;script&gt;alert(1)&lt;/script&gt;<?php echo 1 ?>",
            cell="8 May 2018<style>x{}</style><!-- 1 Jan 1999 -->",
            note="A <script>1 Jan 2000</script>note.&lt;!-- hidden --&gt;",
        ),
        url=XML_URL,
    )
    assert [p.name for p in tricked.participants] == ["Austria", "Algeria"]
    assert [p.iso3 for p in tricked.participants] == ["AUT", "DZA"]
    assert tricked.footnotes[0].text == "A note."
    assert tricked.content_hash() == plain.content_hash()


# --- encoding ----------------------------------------------------------------------------------


def test_the_bom_wins_over_the_http_charset_and_utf16_pages_parse(good) -> None:
    text = render(_page(*BASE_ROWS)).decode("utf-8")
    for codec, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)):
        body = bom + text.encode(codec)
        assert choose(body, "text/html; charset=iso-8859-1") == (codec, "BOM")
        status = parse(body, "text/html; charset=iso-8859-1")
        assert status.content_hash() == good.content_hash()
        assert status.participants[2].iso3 == "CIV"
    assert parse(codecs.BOM_UTF8 + text.encode(), "text/html; charset=windows-1251") == good


def test_the_http_charset_wins_over_the_meta_charset(good) -> None:
    text = render(_page(*BASE_ROWS)).decode("utf-8")
    text = text.replace("<head>", '<head><meta charset="utf-8">')
    latin = text.encode("cp1252")
    assert choose(latin, "text/html; charset=ISO-8859-1") == ("cp1252", "HTTP charset")
    assert parse(latin, "text/html; charset=ISO-8859-1").content_hash() == good.content_hash()


def test_meta_charset_then_detection_when_the_header_says_nothing(good) -> None:
    text = render(_page(*BASE_ROWS)).decode("utf-8")
    meta = text.replace(
        "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    ).encode("cp1252")
    assert choose(meta, "text/html") == ("cp1252", "meta charset")
    assert parse(meta, "text/html").content_hash() == good.content_hash()
    commented = text.replace("<head>", '<head><!-- <meta charset="koi8-r"> -->').encode("cp1252")
    assert choose(commented, None)[1] == "detection"  # a commented-out meta does not count
    assert parse(commented).content_hash() == good.content_hash()
    assert choose(text.encode(), None) == ("utf-8", "detection")


def test_whatwg_label_mapping() -> None:
    assert choose(b"<p>x", "text/html; charset=iso-8859-1")[0] == "cp1252"
    assert choose(b"<p>x", "text/html; charset=US-ASCII")[0] == "cp1252"
    assert choose(b"<p>x", "text/html; charset=latin1")[0] == "cp1252"
    assert choose(b"<p>x", 'text/html; charset="utf-16"')[0] == "utf-16-le"
    assert choose(b'<meta charset="utf-16"><p>x', None) == ("utf-8", "meta charset")
    assert choose(b"<p>x", "text/html; charset=no-such-thing")[1] == "detection"
    assert decode(b"<p>\x81\x80</p>", "text/html; charset=windows-1252").text == "<p>\x81\u20ac</p>"
    with pytest.raises(UndecodablePage, match="replacement"):
        decode(b"<p>x", "text/html; charset=iso-2022-kr")


def test_a_wrong_charset_header_quarantines_the_page() -> None:
    utf8 = render(_page(*BASE_ROWS))
    latin = utf8.decode("utf-8").encode("cp1252")
    said = reason(utf8, "text/html; charset=iso-8859-1")
    assert "labelled cp1252 (HTTP charset) but its bytes are UTF-8" in said
    said = reason(latin, "text/html; charset=utf-8")
    assert said.startswith("page does not decode as utf-8 (HTTP charset): invalid byte sequence")


def test_a_wrong_meta_charset_quarantines_the_page() -> None:
    text = render(_page(*BASE_ROWS)).decode("utf-8")
    body = text.replace("<head>", '<head><meta charset="utf-8">').encode("cp1252")
    assert "does not decode as utf-8 (meta charset)" in reason(body)


def test_replacement_characters_in_the_text_quarantine_the_page() -> None:
    body = render(_page(*BASE_ROWS)).replace(CIV_HTML, html.escape("C\ufffdte d'Ivoire").encode())
    assert "replacement character U+FFFD" in reason(body, "text/html; charset=utf-8")


def test_xml_encoding_http_then_declaration_strictly() -> None:
    latin = _xml("iso-8859-1", name2=CIV)
    assert untc.parse(latin, url=XML_URL).participants[1].iso3 == "CIV"
    as_utf8 = latin.decode("latin-1").encode("utf-8")  # declaration still says iso-8859-1
    with pytest.raises(PageRejected, match="bytes are UTF-8"):
        untc.parse(as_utf8, url=XML_URL)
    assert untc.parse(as_utf8, url=XML_URL, content_type="text/xml; charset=utf-8") == (
        untc.parse(latin, url=XML_URL)
    )
    with pytest.raises(PageRejected, match="does not decode as utf-8"):
        untc.parse(latin, url=XML_URL, content_type="application/xml; charset=utf-8")
    utf16 = codecs.BOM_UTF16_LE + latin.decode("latin-1").replace(
        'encoding="iso-8859-1"', 'encoding="UTF-16"'
    ).encode("utf-16-le")
    assert untc.is_xml(utf16, URL)
    assert untc.parse(utf16, url=URL) == untc.parse(latin, url=XML_URL)


def test_parse_passes_the_content_type_through() -> None:
    utf8 = render(_page(*BASE_ROWS))
    with pytest.raises(PageRejected, match="bytes are UTF-8"):
        parse_source("untc", utf8, url=URL, content_type="text/html; charset=iso-8859-1")
    assert parse_source("untc", utf8, url=URL, content_type="text/html; charset=utf-8")


# --- NFC -------------------------------------------------------------------------------------


def test_a_name_in_nfd_is_the_same_participant(good) -> None:
    nfd = unicodedata.normalize("NFD", CIV)
    assert nfd != CIV
    body = render(_page(*BASE_ROWS)).replace(CIV_HTML, html.escape(nfd).encode())
    assert html.escape(nfd).encode() in body
    status = parse(body)
    civ = status.participants[2]
    assert (civ.name, civ.iso3, civ.key) == (CIV, "CIV", "CIV")
    assert status.content_hash() == good.content_hash()
    unknown = Participant(unicodedata.normalize("NFD", "Ruritanie \u00e9"))
    assert unknown.key == Participant("Ruritanie \u00e9").key


# --- control characters --------------------------------------------------------------------


CONTROLS = "".join(chr(c) for c in [*range(9), 11, 12, *range(14, 32), *range(0x7F, 0xA0)])


def test_control_characters_never_survive_parsing(good) -> None:
    dirty = "\x00Alg\x1be\x85ria\x07\u200b\ufeff"
    body = render(_page(*BASE_ROWS, footnotes={"1": "With\x0b a\x01 note\u202e."}))
    body = body.replace(b"Algeria", dirty.encode())
    body = body.replace(b"Nuclear Weapons", b"Nuclear\x0c Weapons\x00")
    status = parse(body)
    assert status.participants[0].name == "Algeria"
    assert status.participants[0].iso3 == "DZA"
    assert status.title == "Treaty on the Prohibition of Nuclear Weapons"
    assert status.footnotes[0].text == "With a note."
    text = json.dumps(status.to_dict(), ensure_ascii=False)
    assert not any(c in text for c in CONTROLS + "\ufffe\uffff\u200b\ufeff\u202e")


def test_xml_control_characters_stripped_everywhere() -> None:
    status = untc.parse(_xml(name2="Alg\x01eria\x7f", note="A\x02 no\x0bte.\x1f"), url=XML_URL)
    assert status.participants[1].name == "Algeria"
    assert status.footnotes[0].text == "A note."


def test_clean_strips_controls_folds_whitespace_and_nfc() -> None:
    assert strip_controls("a\tb\nc\rd\x00e\x9f\ufffff") == "a\tb\nc\rdef"
    assert clean("\x00 C\u006f\u0302te\td\u2019Ivoire\x1b\n") == "C\u00f4te d\u2019Ivoire"
    surrogate = "a\ud800b"
    assert clean(surrogate) == "ab"
