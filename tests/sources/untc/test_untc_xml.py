"""MTDSG XML parser: Latin-1, NBSP, control characters, bare `&`, escaped superscripts, rejects."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tracker.domain.models import Column
from tracker.sources import PageRejected, untc
from tracker.sources.untc.xml import HEADER_ONLY, decode, parse_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "untc"
URL = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVII/XXVII-7-d.en.xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejected(body: bytes, expected: str | None = None) -> str:
    with pytest.raises(PageRejected) as info:
        untc.parse(body, url=URL, expected_treaty=expected)
    assert info.value.reason
    return info.value.reason


@pytest.fixture(scope="module")
def paris():
    return untc.parse(
        fixture("mtdsg_latin1_malformed.en.xml"), url=URL, expected_treaty="XXVII-7-d"
    )


def by_name(status, name):
    return next(p for p in status.participants if p.name == name)


def test_fixture_really_is_latin1_and_malformed() -> None:
    body = fixture("mtdsg_latin1_malformed.en.xml")
    assert b"C\xf4te" in body and b"\xa0" in body and b"\x1c" in body and b"\x02" in body
    assert b'<text type="para">&</text>' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_decode_uses_the_declared_encoding() -> None:
    assert decode(b'<?xml version="1.0" encoding="iso-8859-1"?><a>C\xf4te</a>').endswith("Côte</a>")
    assert decode('<?xml version="1.0" encoding="utf-8"?><a>Côte</a>'.encode()).endswith("Côte</a>")
    assert decode(b'<?xml version="1.0" encoding="bogus-9"?><a>C\xf4te</a>').endswith("Côte</a>")
    assert decode(b"\xef\xbb\xbf<a>C\xc3\xb4te</a>") == "<a>Côte</a>"


def test_header_fields(paris) -> None:
    assert paris.treaty_id == "XXVII-7-d"
    assert paris.title == "Paris Agreement"  # Subtitlesect
    assert paris.chapter == "XXVII"  # "CHAPTER XXVII<superscript>1</superscript>"
    assert (paris.adoption_place, paris.adoption_date) == ("Paris", date(2015, 12, 12))
    assert paris.eif_label == "Entry into force"
    assert paris.eif_date == date(2016, 11, 4)  # "4\xa0November 2016"
    assert paris.eif_text.startswith("4 November 2016, in accordance with article 21(1)")
    assert "\u201cThis Agreement shall enter into force" in paris.eif_text  # \x1c restored
    assert (paris.published_signatories, paris.published_parties) == (7, 5)
    assert paris.status_as_at is None


def test_columns_lose_superscripts(paris) -> None:
    assert paris.columns == (
        "Participant",
        "Signature",
        "Ratification, Acceptance(A), Approval(AA), Accession(a)",
    )


def test_names_latin1_superscripts_and_identity(paris) -> None:
    assert [p.name for p in paris.participants] == [
        "Côte d'Ivoire",
        "Denmark",
        "European Union",
        "Morocco",
        "Netherlands",
        "The former Yugoslav Republic of Macedonia",
        "United States of America",
    ]
    assert by_name(paris, "Côte d'Ivoire").iso3 == "CIV"
    assert by_name(paris, "Denmark").footnotes == ("1",)
    assert by_name(paris, "Netherlands").footnotes == ("2", "3")
    eu = by_name(paris, "European Union")
    assert eu.reio and eu.iso3 is None
    assert by_name(paris, "The former Yugoslav Republic of Macedonia").iso3 == "MKD"


def test_actions(paris) -> None:
    denmark = by_name(paris, "Denmark")
    assert denmark.signature.kind == "signature" and denmark.signature.date == date(2016, 4, 22)
    assert (denmark.consent.kind, denmark.consent.letter) == ("approval", "AA")
    assert by_name(paris, "Morocco").consent.date == date(2016, 9, 21)  # "21\xa0Sep 2016"
    assert by_name(paris, "Netherlands").consent.kind == "acceptance"
    assert by_name(paris, "Côte d'Ivoire").consent.kind == "ratification"
    us = by_name(paris, "United States of America")  # "[ 3 Sep 2016 A]"
    assert us.consent.withdrawn and us.consent.date == date(2016, 9, 3) and us.withdrawn
    assert not us.is_party and us.is_signatory
    assert (paris.signatories, paris.parties) == (7, 5)


def test_endnotes_keep_bare_ampersand_and_drop_literal_tags(paris) -> None:
    assert [f.ref for f in paris.footnotes] == ["1", "2", "3"]
    assert (
        paris.footnotes[0].text
        == "With territorial exclusion in respect of Greenland & the Faroe Islands."
    )
    assert paris.footnotes[1].text == (
        "For the European part of the Netherlands. "
        "See C.N.500.2017 of 31 July 2017\u2019s notification."
    )


def test_subchapter_in_treaty_id_and_other_letters() -> None:
    status = untc.parse(fixture("mtdsg_subchapter.en.xml"), url=URL, expected_treaty="XI-A-7")
    assert status.treaty_id == "XI-A-7" and status.chapter == "XI"
    kinds = {
        p.name: [(a.column, a.kind, a.withdrawn) for a in p.actions] for p in status.participants
    }
    assert kinds["Belgium"] == [
        (Column.SIGNATURE, "signature", False),
        (Column.CONSENT, "formal_confirmation", False),
    ]
    assert kinds["Austria"] == [(Column.CONSENT, "definitive_signature", False)]
    assert kinds["Yugoslavia"] == [(Column.CONSENT, "participation", False)]
    assert kinds["Fiji"] == [(Column.CONSENT, "succession", True)]
    assert kinds["Czechoslovakia"] == [(Column.SIGNATURE, "signature", True)]
    assert (
        by_name(status, "Czechoslovakia").iso3 == "CSK"
        and by_name(status, "Yugoslavia").iso3 == "YUG"
    )
    assert (status.signatories, status.parties) == (1, 4)


def test_url_ending_in_xml_selects_xml_even_without_declaration() -> None:
    body = fixture("mtdsg_subchapter.en.xml").split(b"?>", 1)[1]
    status = untc.parse(body, url="https://x/XI-A-7.en.xml")
    assert status.treaty_id == "XI-A-7"


def test_zero_counts_may_be_left_unprinted() -> None:
    body = fixture("mtdsg_latin1_malformed.en.xml")
    for cell in (
        b"25 Oct 2016",
        b"1 Nov 2016 AA",
        b"5 Oct 2016 AA",
        b"21\xa0Sep 2016",
        b"28 Jul 2017 A",
    ):
        body = body.replace(b"<Entry>" + cell + b"</Entry>", b"<Entry />")
    body = body.replace(b"<Parties>5</Parties>", b"")
    status = untc.parse(body, url=URL)
    assert status.published_parties is None and status.parties == 0


# --- rejections --------------------------------------------------------------------------------


def test_header_only_file_is_rejected() -> None:
    assert rejected(fixture("mtdsg_header_only.en.xml")) == HEADER_ONLY
    assert HEADER_ONLY == "header-only MTDSG file: no participants table"


def test_wrong_treaty_is_rejected() -> None:
    body = fixture("mtdsg_latin1_malformed.en.xml")
    assert rejected(body, expected="XXVI-9") == "wrong treaty: page is XXVII-7-d, expected XXVI-9"


def test_counts_that_disagree_are_rejected() -> None:
    body = fixture("mtdsg_latin1_malformed.en.xml").replace(b"<Parties>5<", b"<Parties>6<")
    assert rejected(body) == "parties disagree: table has 5, page prints 6"
    body = fixture("mtdsg_latin1_malformed.en.xml").replace(b"<Signatories>7<", b"<Signatories>8<")
    assert rejected(body) == "signatories disagree: table has 7, page prints 8"


def test_missing_printed_counts_are_rejected() -> None:
    body = fixture("mtdsg_latin1_malformed.en.xml").replace(b"<Parties>5</Parties>", b"")
    assert rejected(body) == "printed count of parties missing although the table holds 5"
    body = fixture("mtdsg_latin1_malformed.en.xml").replace(b"<Signatories>7</Signatories>", b"")
    assert (
        rejected(body)
        == "printed count of signatories missing although the signature column holds 7"
    )


def test_empty_table_is_rejected() -> None:
    body = fixture("mtdsg_subchapter.en.xml")
    start, end = body.index(b"<Rows>"), body.index(b"</Rows>")
    assert (
        rejected(body[:start] + body[end + len(b"</Rows>") :]) == "participants table has no rows"
    )


def test_unparseable_cell_is_rejected() -> None:
    body = fixture("mtdsg_subchapter.en.xml").replace(b"5 Dec 1968 a", b"see note 3")
    reason = rejected(body)
    assert "row 6 (Afghanistan)" in reason and "'see note 3'" in reason


def test_row_with_wrong_cell_count_is_rejected() -> None:
    body = fixture("mtdsg_subchapter.en.xml").replace(b"<Entry>5 Dec 1968 a</Entry>", b"")
    assert "2 cells but 3 column headers" in rejected(body)


def test_not_a_treaty_document_is_rejected() -> None:
    assert rejected(
        b'<?xml version="1.0"?><Document><Error>Not found</Error></Document>'
    ).startswith("not a treaty status page")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="iso-8859-1"?>\x00\x01\x02',
        b'<?xml version="1.0" encoding="iso-8859-1"?><Document><Treaty><Header><Chapter>',
        b"<?xml \xff\xfe garbage",
        b"<Document>" + b"<x>" * 5000,
    ],
)
def test_garbage_never_crashes(body: bytes) -> None:
    with pytest.raises(PageRejected) as info:
        parse_xml(body)
    assert info.value.reason


@pytest.mark.parametrize(
    ("body", "url", "xml"),
    [
        (b'<?xml version="1.0"?><Document/>', "https://x/ViewDetails.aspx", True),
        (b"\xef\xbb\xbf \r\n<Document>", "https://x/ViewDetails.aspx", True),
        (
            b"<!DOCTYPE html><html>",
            "https://x/doc/Publication/MTDSG/Volume%20II/XXVI-9.en.xml",
            True,
        ),
        (b"\r\n\r\n<!DOCTYPE html><html>", "https://x/Pages/ViewDetails.aspx?src=TREATY", False),
        (b"<html>", "https://x/Pages/ViewDetails.aspx?file=a.xml", False),
    ],
)
def test_format_choice(body: bytes, url: str, xml: bool) -> None:
    assert untc.is_xml(body, url) is xml
