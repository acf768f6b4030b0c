"""UNTC addresses: built like the site's own, recognised from its links."""

import pytest

from tracker.sources.untc import urls

BASE = "https://treaties.un.org"


@pytest.mark.parametrize(
    ("roman", "number"), [("I", 1), ("IV", 4), ("IX", 9), ("XIV", 14), ("XXVI", 26), ("XXIX", 29)]
)
def test_roman_chapters(roman, number):
    assert urls.roman_to_int(roman) == number


def test_status_page_url_matches_the_recorded_address():
    assert urls.status_page_url(BASE, "XXVI-9") == (
        "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9&chapter=26&clang=_en"
    )


def test_xml_url_volume_split():
    assert urls.xml_url(BASE, "IV-5").endswith("/MTDSG/Volume%20I/Chapter%20IV/IV-5.en.xml")
    assert urls.xml_url(BASE, "XXVII-7-d").endswith(
        "/MTDSG/Volume%20II/Chapter%20XXVII/XXVII-7-d.en.xml"
    )


@pytest.mark.parametrize("bad", ["", "26-9", "XXVI", "XXVI-", "hello", "XXVI-9; DROP"])
def test_bad_treaty_ids_are_refused(bad):
    with pytest.raises(urls.BadTreatyId):
        urls.chapter_of(bad)


def test_links_are_recognised():
    assert (
        urls.treaty_from_link(
            BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-11-b&chapter=4&clang=_en"
        )
        == "IV-11-b"
    )
    assert (
        urls.treaty_from_link(BASE + "/Pages/viewdetails.aspx?chapter=4&mtdsg_no=IV-4&src=TREATY")
        == "IV-4"
    )
    assert (
        urls.treaty_from_link(BASE + "/Pages/ViewDetails.aspx?src=IND&mtdsg_no=IV-4&chapter=4")
        is None
    )
    assert urls.treaty_from_link(BASE + "/Pages/Other.aspx?src=TREATY&mtdsg_no=IV-4") is None
    assert urls.chapter_from_link(BASE + "/Pages/Treaties.aspx?id=26&subid=A&clang=_en") == 26
    assert urls.chapter_from_link(BASE + "/Pages/Treaties.aspx?id=abc") is None


@pytest.mark.parametrize("bad", ["", "IIZ", "xx", "4"])
def test_not_a_roman_numeral(bad):
    with pytest.raises(ValueError):
        urls.roman_to_int(bad)


def test_a_sub_chapter_number_has_its_chapters_addresses():
    # The site's own form for chapter XI's treaties: chapter=11, the number with its letter.
    assert urls.status_page_url(BASE, "XI-A-16") == (
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XI-A-16&chapter=11&clang=_en"
    )
    assert urls.xml_url(BASE, "XI-A-16") == (
        BASE + "/doc/Publication/MTDSG/Volume%20I/Chapter%20XI/XI-A-16.en.xml"
    )
    assert urls.xml_url(BASE, "III-2-2a").endswith("/Volume%20I/Chapter%20III/III-2-2a.en.xml")


def test_chapter_and_sub_chapter_pages():
    assert urls.chapter_url(BASE, 26) == BASE + "/Pages/Treaties.aspx?id=26&subid=A&clang=_en"
    assert urls.chapter_url(BASE, 11, "C") == BASE + "/Pages/Treaties.aspx?id=11&subid=C&clang=_en"
    with pytest.raises(ValueError, match="not a sub-chapter"):
        urls.chapter_url(BASE, 11, "F")
    link = urls.catalogue_page_from_link
    assert link(BASE + "/Pages/Treaties.aspx?id=11&subid=B&clang=_en") == (11, "B")
    assert link(BASE + "/Pages/treaties.aspx?subid=e&id=11") == (11, "E")
    assert link(BASE + "/Pages/Treaties.aspx?id=11") == (11, "A")  # the chapter's first page
    assert link(BASE + "/Pages/Treaties.aspx?id=11&subid=Z") is None
    assert link(BASE + "/Pages/Treaties.aspx?id=XI&subid=B") is None
    assert link(BASE + "/Pages/Other.aspx?id=11&subid=B") is None
    assert urls.chapter_from_link(BASE + "/Pages/Treaties.aspx?id=11&subid=D&clang=_en") == 11


@pytest.mark.parametrize(
    ("link", "treaty"),
    [
        ("/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XI-A-16&chapter=11&clang=_en", "XI-A-16"),
        ("/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=III-2-2a&chapter=3&clang=_en", "III-2-2a"),
        # Older treaties are linked to the same status page in other templates.
        (
            "/pages/ViewDetailsIII.aspx?src=TREATY&mtdsg_no=XI-B-19&chapter=11&Temp=mtdsg3",
            "XI-B-19",
        ),
        ("/Pages/ViewDetailsV.aspx?src=TREATY&mtdsg_no=XI-B-1&chapter=11&clang=_en", "XI-B-1"),
        ("/Pages/ViewDetailsVI.aspx?src=TREATY&mtdsg_no=XI-B-1&chapter=11", None),
        ("/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XI-F-1&chapter=11", None),
        ("/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9%3Bx&chapter=26", None),
    ],
)
def test_status_links_of_every_form_are_recognised(link, treaty):
    assert urls.treaty_from_link(BASE + link) == treaty
