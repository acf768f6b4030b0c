"""UNTC ViewDetails.aspx parser: every field and every rejection on small hand-written pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tracker.domain.models import Column
from tracker.sources import PageRejected, untc
from tracker.sources import parse as parse_source
from tracker.sources.documents import html_root
from tracker.sources.untc.html import _refs, status_as_at
from tracker.sources.untc.table import column_role

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "untc"
URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no={}&chapter=4&clang=_en"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes, treaty: str = "IV-5", expected: str | None = None):
    return untc.parse(body, url=URL.format(treaty), expected_treaty=expected)


def rejected(body: bytes, expected: str | None = None) -> str:
    with pytest.raises(PageRejected) as info:
        parse(body, expected=expected)
    assert info.value.reason
    return info.value.reason


@pytest.fixture(scope="module")
def three():
    return parse(page("viewdetails_3col.html"), expected="IV-5")


def by_name(status, name):
    return next(p for p in status.participants if p.name == name)


def test_header_fields(three) -> None:
    assert three.treaty_id == "IV-5"
    assert (
        three.title
        == "Optional Protocol to the International Covenant on Civil and Political Rights"
    )
    assert three.chapter == "IV"
    assert three.adoption_place == "New York"
    assert three.adoption_date == date(1966, 12, 16)
    assert three.eif_label == "Entry into force"
    assert three.eif_text == "23 March 1976, in accordance with article 9."
    assert three.eif_date == date(1976, 3, 23)
    assert three.in_force is True
    # "Parties : 4." is followed by footnote refs "1, 2, 3", which are not counts
    assert (three.published_signatories, three.published_parties) == (2, 4)


def test_status_as_at_is_new_york_time_as_aware_utc(three) -> None:
    assert three.status_as_at == datetime(2026, 2, 3, 15, 16, 18, tzinfo=UTC)
    assert status_as_at("STATUS AS AT : 15-07-2025 09:00:00 EDT") == datetime(
        2025, 7, 15, 13, 0, 0, tzinfo=UTC
    )
    assert status_as_at("STATUS AS AT :") is None


def test_columns_without_footnote_refs(three) -> None:  # "Participant 4, 5" in the page
    assert three.columns == (
        "Participant",
        "Signature, Succession to signature(d)",
        "Ratification, Accession(a), Succession(d)",
    )


def test_participant_rows_and_names(three) -> None:
    assert [p.name for p in three.participants] == [
        "Albania", "Austria", "Belarus", "Czech Republic", "Guyana", "Jamaica",
    ]  # fmt: skip
    assert [p.iso3 for p in three.participants] == ["ALB", "AUT", "BLR", "CZE", "GUY", "JAM"]


def test_footnote_markers_leave_the_name(three) -> None:
    assert by_name(three, "Belarus").footnotes == ("6",)
    assert by_name(three, "Guyana").footnotes == ("2",)  # name inside a declarations link
    assert by_name(three, "Albania").footnotes == ()


def test_cells_nbsp_padding_tab_and_letter(three) -> None:
    (albania,) = by_name(three, "Albania").actions
    assert (albania.column, albania.kind, albania.date, albania.letter) == (
        Column.CONSENT, "accession", date(2007, 10, 4), "a",
    )  # fmt: skip
    austria = by_name(three, "Austria")
    assert austria.signature.date == date(1973, 12, 10) and austria.signature.kind == "signature"
    assert austria.consent.kind == "ratification" and austria.consent.letter == ""
    czech = by_name(three, "Czech Republic")  # "d" in both columns
    assert czech.signature.kind == "succession_to_signature"
    assert czech.consent.kind == "succession"


def test_brackets_mean_withdrawn(three) -> None:
    belarus = by_name(three, "Belarus")
    assert belarus.consent.withdrawn and belarus.consent.date == date(1992, 9, 30)
    jamaica = by_name(three, "Jamaica")
    assert jamaica.signature.withdrawn and jamaica.consent.withdrawn
    assert jamaica.consent.date == date(1975, 10, 3)
    assert not jamaica.is_party and not jamaica.is_signatory
    assert (three.signatories, three.parties) == (2, 4)  # derived counts exclude brackets


def test_footnote_texts(three) -> None:
    refs = [f.ref for f in three.footnotes]
    assert refs == ["1", "2", "3", "4", "5", "6", "7"]
    guyana = three.footnotes[1].text
    assert guyana.startswith("The Government of Guyana had initially acceded")
    assert "C.N.182.1993.TREATIES-2" in guyana  # link text kept
    assert "  " not in guyana and "\xa0" not in guyana


def test_two_column_page_without_signature_column() -> None:
    status = parse(page("viewdetails_2col_ccw.html"), expected="XXVI-2-a")
    assert status.title.startswith("Additional Protocol to the Convention")  # "2. a" dropped
    assert status.columns == ("Participant", "Consent to be bound(P), Succession(d)")
    assert status.published_signatories is None and status.published_parties == 3
    assert (status.signatories, status.parties) == (0, 3)
    kinds = {p.name: p.consent.kind for p in status.participants}
    assert kinds == {
        "Afghanistan": "consent_to_be_bound",
        "Montenegro": "succession",
        "Netherlands (Kingdom of the)": "consent_to_be_bound",
    }
    assert status.footnotes[1].text.startswith("For the Kingdom in Europe. Subsequently")


def test_four_column_page_with_provisional_application() -> None:
    status = parse(page("viewdetails_4col_provisional.html"), expected="XXVI-6")
    assert status.columns[2] == "Provisional application(n)"
    belize = by_name(status, "Belize")
    assert belize.provisional.kind == "provisional_application" and belize.provisional.letter == "n"
    assert belize.provisional.column is Column.PROVISIONAL
    assert belize.consent.kind == "accession"
    lithuania = by_name(status, "Lithuania")
    assert all(a.withdrawn for a in lithuania.actions) and len(lithuania.actions) == 3
    turkiye = by_name(status, "Türkiye")  # `[ &nbsp;9 Jan\t 2012 a]`
    assert turkiye.iso3 == "TUR" and turkiye.consent.withdrawn
    assert turkiye.consent.date == date(2012, 1, 9) and turkiye.consent.kind == "accession"
    assert by_name(status, "Netherlands (Kingdom of the)").consent.kind == "acceptance"
    assert by_name(status, "Côte d'Ivoire").iso3 == "CIV"
    assert by_name(status, "Bolivia (Plurinational State of)").iso3 == "BOL"
    assert (status.signatories, status.parties) == (4, 4)


def test_kind_comes_from_the_letter_not_the_column_order() -> None:
    body = page("viewdetails_4col_provisional.html")
    reordered = body.replace(
        b"Approval(AA), Acceptance(A), Accession(a), Ratification",
        b"Ratification, Accession(a), Acceptance(A), Approval(AA)",
    )
    first, second = (parse(b, expected="XXVI-6") for b in (body, reordered))
    assert [p.actions for p in first.participants] == [p.actions for p in second.participants]


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Signature", Column.SIGNATURE),
        ("Signature, Succession to signature(d)", Column.SIGNATURE),
        ("Provisional application under article 23(n)", Column.PROVISIONAL),
        (
            "Undertaking of provisional application in accordance with article 31",
            Column.PROVISIONAL,
        ),
        ("Approval(AA), Acceptance(A), Accession(a), Ratification", Column.CONSENT),
        ("Definitive signature(s), Acceptance(A)", Column.CONSENT),
        ("Provisional acceptance", Column.CONSENT),
        # XXI-6-a: its printed parties only agree with the table when this is not consent
        ("Notification of non-provisional application under article 7 (1) (b)", Column.PROVISIONAL),
        ("Consent to be bound(P), Succession(d)", Column.CONSENT),
    ],
)
def test_column_roles(header: str, role: Column) -> None:
    assert column_role(header) is role


def test_parse_is_deterministic_and_registered(three) -> None:
    again = parse_source("untc", page("viewdetails_3col.html"), url=URL.format("IV-5"))
    assert again == three and again.content_hash() == three.content_hash()


def test_maintenance_page_answering_200_is_rejected() -> None:
    reason = rejected(page("viewdetails_maintenance.html"))
    assert reason.startswith("not a treaty status page")


def test_wrong_treaty_is_rejected() -> None:
    reason = rejected(page("viewdetails_3col.html"), expected="XXVI-9")
    assert reason == "wrong treaty: page is IV-5, expected XXVI-9"


def test_shrunken_table_whose_counts_disagree_is_rejected() -> None:
    reason = rejected(page("viewdetails_shrunken.html"))
    assert reason == "signatories disagree: table has 1, page prints 2"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b"Parties :                 4.",
            b"Parties : 5.",
            "parties disagree: table has 4, page prints 5",
        ),
        (
            b"Parties :                 4.",
            b"",
            "printed count of parties missing although the table holds 4",
        ),
        (
            b"Signatories :                 2.",
            b"",
            "printed count of signatories missing although the signature column holds 2",
        ),
    ],
)
def test_printed_counts_must_be_there_and_agree(old: bytes, new: bytes, reason: str) -> None:
    assert rejected(page("viewdetails_3col.html").replace(old, new)) == reason


def test_unparseable_cell_is_a_layout_change() -> None:
    body = page("viewdetails_3col.html").replace(b"10 Dec\t 1987 <br>", b"pending<br>")
    reason = rejected(body)
    assert "row 2 (Austria)" in reason and "'pending'" in reason and "layout change" in reason


def test_unknown_action_letter_is_rejected() -> None:
    body = page("viewdetails_3col.html").replace(b"10 Dec\t 1987 <br>", b"10 Dec\t 1987 x<br>")
    assert "unknown action letter 'x'" in rejected(body)


def test_row_with_missing_cell_is_rejected() -> None:
    body = page("viewdetails_3col.html").replace(b"\t\t<td>&nbsp;</td>\r\n", b"", 1)
    assert "cells but 3 column headers" in rejected(body)


def test_missing_participants_table_is_rejected() -> None:
    body = page("viewdetails_3col.html").replace(b"_tblgrid", b"_other")
    assert rejected(body).startswith("no participants table")


def test_header_only_table_is_rejected() -> None:
    body = page("viewdetails_3col.html")
    start = body.index(b'<tr class="trBWhite">')
    end = body.index(b"</table>", start)
    assert rejected(body[:start] + body[end:]) == "participants table has no rows"


def test_missing_treaty_number_is_rejected() -> None:
    body = page("viewdetails_3col.html").replace(b"mtdsg_no=IV-5", b"id=1")
    assert rejected(body) == "not a treaty status page: no MTDSG treaty number found"


@pytest.mark.parametrize(
    "body", [b"", b"  \r\n", b"<html><body>Server Error in '/' Application.</body></html>"]
)
def test_empty_or_error_bodies_are_rejected(body: bytes) -> None:
    assert rejected(body)


def test_footnote_markers_are_found_whatever_the_case_of_the_markup() -> None:
    """_refs() asks lxml for the <sup> and <a> elements by name: the HTML parser lower-cases
    every tag, so upper-case markup is found too, and a marker inside a <template> is not."""
    page = (
        b"<html><body><table><tr><TD>Chad<SUP><A href='#n2'>2</A>, <a>3</a></SUP>"
        b"<Sup>4, 5</Sup><template><sup>9</sup></template></TD></tr></table></body></html>"
    )
    cell = html_root(page, None).find(".//td")
    assert _refs(cell) == ("2", "3", "4", "5")
