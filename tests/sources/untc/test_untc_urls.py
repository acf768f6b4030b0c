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
