"""The WIPO Lex parser on the project's own pages (tests/fixtures/wipo): what each row means,
and every rejection with its reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.support.wipo_render import page
from tracker.domain.models import Action, Column, TreatyStatus
from tracker.sources import PageRejected
from tracker.sources import parse as parse_source
from tracker.sources.wipo import parse
from tracker.sources.wipo.validate import members

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wipo"
URL = "https://www.wipo.int/wipolex/en/treaties/ShowResults?search_what=C&treaty_id={}"


def read(name: str, expected: str | None = None) -> TreatyStatus:
    treaty = expected or "843"
    return parse((FIXTURES / name).read_bytes(), url=URL.format(treaty), expected_treaty=expected)


def rejected(name: str, expected: str | None = None) -> str:
    with pytest.raises(PageRejected) as raised:
        read(name, expected)
    return raised.value.reason


def by_name(status: TreatyStatus) -> dict:
    return {p.name: p for p in status.participants}


def test_a_page_in_force_gives_its_treaty_members_and_dated_actions():
    status = read("marrakesh_few.html", "843")
    assert (status.treaty_id, status.title) == ("843", "Marrakesh VIP Treaty")
    assert (status.eif_label, status.in_force, status.published_parties) == (
        "Total Members: 3",
        True,
        3,
    )
    assert status.status_as_at is None and status.published_signatories is None
    assert status.columns == ("Member", "Signature", "Instrument", "In Force", "Details")
    rows = by_name(status)
    assert list(rows) == ["Afghanistan", "Angola", "Austria", "European Union (EU)"]
    afghanistan = rows["Afghanistan"]
    assert afghanistan.iso3 == "AFG" and not afghanistan.reio
    assert afghanistan.actions == (
        Action(Column.SIGNATURE, "signature", date(2013, 6, 28)),
        Action(Column.CONSENT, "ratification", date(2018, 7, 26)),
    )
    assert afghanistan.published_in_force_from == date(2018, 10, 26)
    # Printed in force on a date after the capture: a member already, with its own date.
    angola = rows["Angola"]
    assert angola.actions == (Action(Column.CONSENT, "accession", date(2025, 12, 15)),)
    assert angola.published_in_force_from == date(2026, 3, 15)
    austria = rows["Austria"]
    assert austria.is_signatory and not austria.is_party
    assert austria.published_in_force_from is None
    eu = rows["European Union (EU)"]
    assert (eu.iso3, eu.reio, eu.consent.kind) == (None, True, "ratification")
    assert (status.signatories, status.parties, members(status)) == (3, 3, 3)


def test_successions_and_members_without_an_instrument():
    status = read("paris_few.html", "2")
    rows = by_name(status)
    # A declaration of continued application is how WIPO records a successor's continuation.
    assert rows["Armenia"].consent == Action(Column.CONSENT, "succession", date(1994, 5, 17))
    assert rows["Armenia"].published_in_force_from == date(1991, 12, 25)  # before the deposit
    assert rows["Croatia"].consent.kind == "succession"
    assert rows["Netherlands (Kingdom of the)"].iso3 == "NLD"
    assert rows["Netherlands (Kingdom of the)"].signature.date == date(1883, 3, 20)  # pre-1970
    viet_nam = rows["Viet Nam"]
    assert viet_nam.actions == () and viet_nam.published_in_force_from == date(1949, 3, 8)
    burkina = rows["Burkina Faso"]
    assert burkina.consent.kind == "accession" and burkina.published_in_force_from is None
    # Total Members counts the In Force dates: Viet Nam in, Burkina Faso out.
    assert status.published_parties == members(status) == 4
    assert status.parties == 4  # the instruments: Armenia, Croatia, Netherlands, Burkina Faso


def test_a_treaty_not_yet_in_force():
    status = read("washington_not_in_force.html", "29")
    assert (status.eif_label, status.in_force, status.published_parties) == (
        "Not yet in force",
        False,
        None,
    )
    assert [p.published_in_force_from for p in status.participants] == [None, None, None]
    assert (status.signatories, status.parties) == (2, 2)


def test_the_parser_is_registered_and_deterministic():
    body = (FIXTURES / "marrakesh_few.html").read_bytes()
    first = parse_source("wipo", body, url=URL.format("843"), expected_treaty="843")
    again = parse_source("wipo", body, url=URL.format("843"), expected_treaty="843")
    assert first == again and first.content_hash() == again.content_hash()
    assert TreatyStatus.from_dict(first.to_dict()) == first


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "maintenance.html",
            "not a WIPO Lex Contracting Parties page: no canonical link with a treaty_id "
            "(maintenance or error page answering 200?)",
        ),
        ("no_table.html", "no participants table (no table#wipoTreatiesTable)"),
        ("empty_table.html", "participants table has no rows"),
        (
            "members_disagree.html",
            "parties disagree: table has 3 members with an In Force date, "
            "page prints Total Members: 4",
        ),
        ("other_treaty.html", "wrong treaty: page is 15, expected 843"),
        (
            "bad_date.html",
            "participants table row 1 (Afghanistan): unreadable date 'Juli 26, 2018'",
        ),
        (
            "sort_disagrees.html",
            "participants table row 1 (Afghanistan): 'Ratification: July 26, 2018' but data-sort "
            "says 2018-07-27 (the two dates disagree)",
        ),
        (
            "unknown_instrument.html",
            "participants table row 1 (Afghanistan): unknown instrument 'Provisional Application'",
        ),
        (
            "layout_changed.html",
            "participants table header ['Member', 'Signature', 'Instrument', 'Entry into force', "
            "'Details']: unexpected column 'Entry into force' (layout change?)",
        ),
        ("listed_twice.html", "participant listed more than once: Afghanistan"),
        (
            "no_header_words.html",
            "the facet header prints neither 'Total Members: N' nor 'Not yet in force': "
            "'(Members: see below)'",
        ),
    ],
)
def test_each_hostile_page_is_rejected_with_its_reason(name: str, reason: str):
    assert rejected(name, "843") == reason


def test_an_empty_body_and_an_undecodable_one_are_rejected():
    with pytest.raises(PageRejected, match="empty response body"):
        parse(b"  \n", url=URL.format("843"))
    latin1_labelled_utf8 = (
        (FIXTURES / "marrakesh_few.html")
        .read_bytes()
        .replace(b"Afghanistan", "Côte d'Ivoire".encode())
    )
    with pytest.raises(PageRejected):
        parse(latin1_labelled_utf8, url=URL.format("843"), content_type="text/html; charset=ascii")


def test_dates_must_agree_with_their_data_sort_both_ways():
    base = (FIXTURES / "marrakesh_few.html").read_bytes()
    # A date printed with no data-sort to check it by.
    no_sort = base.replace(b'data-sort="1372377600000"', b'data-sort=""', 1)
    with pytest.raises(PageRejected, match="has no data-sort date to check it against"):
        parse(no_sort, url=URL.format("843"))
    # A data-sort with no date printed (Austria's empty instrument cell given one).
    ghost = base.replace(
        b'<td><div>Austria</div></td>\n                 <td data-sort="1403654400000">\n'
        b"                    <div>June 25, 2014</div>\n                </td>\n"
        b'                 <td data-sort="">',
        b'<td><div>Austria</div></td>\n                 <td data-sort="1403654400000">\n'
        b"                    <div>June 25, 2014</div>\n                </td>\n"
        b'                 <td data-sort="1403654400000">',
    )
    assert ghost != base
    with pytest.raises(PageRejected, match="data-sort gives 2014-06-25 but no date is printed"):
        parse(ghost, url=URL.format("843"))
    # Not midnight UTC: not a date this parser understands.
    noon = base.replace(b'data-sort="1372377600000"', b'data-sort="1372420800000"', 1)
    with pytest.raises(PageRejected, match="is not midnight UTC"):
        parse(noon, url=URL.format("843"))


def test_another_view_of_the_treaty_is_not_its_contracting_parties():
    body = (
        (FIXTURES / "marrakesh_few.html")
        .read_bytes()
        .replace(b"search_what&#x3D;C", b"search_what&#x3D;B")
    )
    with pytest.raises(PageRejected, match="not the Contracting Parties view: search_what='B'"):
        parse(body, url=URL.format("843"), expected_treaty="843")


def test_what_scripts_and_templates_hold_is_not_the_page():
    real = (FIXTURES / "marrakesh_few.html").read_bytes()
    hidden = real.replace(
        b"<body>",
        b'<body><template><link rel="canonical" href="https://www.wipo.int/wipolex/en/'
        b'treaties/ShowResults?search_what=C&amp;treaty_id=15" />'
        b'<table id="wipoTreatiesTable"></table></template>',
    )
    status = parse(hidden, url=URL.format("843"), expected_treaty="843")
    assert status == parse(real, url=URL.format("843"), expected_treaty="843")


def test_a_row_with_missing_cells_is_a_layout_change():
    body = page(
        "843",
        "Marrakesh VIP Treaty",
        "(Total Members: 0)",
        ["              <tr>\n                <td><div>Chile</div></td>\n              </tr>\n"],
    )
    with pytest.raises(PageRejected, match=r"row 1: 1 cells but 5 column headers"):
        parse(body, url=URL.format("843"))
