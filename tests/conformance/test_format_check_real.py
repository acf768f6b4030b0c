"""The format cross-check over the real captures: every treaty present both as a 2026 ViewDetails
page and a 2018 MTDSG XML file is compared (both ways). Eight years apart they differ; the
comparison must run on every pair, explain every difference in words that name both formats,
and never crash. Skips, with the reason, when shared/fixtures/real is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.real import ABSENT, REAL

from tracker.domain.format_check import compare_formats, describe
from tracker.sources import PageRejected, untc

pytestmark = pytest.mark.slow

HTML_DIR = REAL / "untc_viewdetails_html_2026-02-03"
XML_DIR = REAL / "untc_mtdsg_xml_2018-01-15"


def _pairs() -> list[tuple[str, Path, Path]]:
    if not HTML_DIR.is_dir() or not XML_DIR.is_dir():
        return []
    found = []
    for page in sorted(HTML_DIR.glob("*.html")):
        treaty = page.name.split("__", 1)[0]
        twin = XML_DIR / f"{treaty}.en.xml"
        if twin.exists():
            found.append((treaty, page, twin))
    return found


PAIRS = _pairs()


@pytest.fixture(scope="module")
def parsed():
    if not PAIRS:
        pytest.skip(ABSENT)
    statuses = {}
    rejected = {}
    for treaty, page, twin in PAIRS:
        html = untc.parse(page.read_bytes(), url=page.as_uri(), expected_treaty=treaty)
        try:
            xml = untc.parse(twin.read_bytes(), url=twin.as_uri(), expected_treaty=treaty)
        except PageRejected as why:  # e.g. a header-only file: nothing to compare
            rejected[treaty] = why.reason
            continue
        statuses[treaty] = (html, xml)
    return statuses, rejected


def test_every_treaty_in_both_formats_is_compared_and_explained(parsed):
    statuses, rejected = parsed
    # Every one of the 30 pages has its 2018 file; the header-only ones cannot be compared.
    assert len(PAIRS) == 30
    assert set(rejected.values()) <= {"header-only MTDSG file: no participants table"}
    assert len(statuses) + len(rejected) == 30 and len(statuses) >= 10
    differing = 0
    for treaty, (html, xml) in statuses.items():
        for held, other, h, o in ((html, xml, "html", "xml"), (xml, html, "xml", "html")):
            found = compare_formats(held, other, held_format=h, other_format=o)
            for d in found:
                assert d.words and f"the {h}" in d.words and f"the {o}" in d.words, (treaty, d)
                if d.participant is not None:
                    names = {p.name for p in (*held.participants, *other.participants)}
                    assert any(d.words.startswith(n) for n in names), (treaty, d)
            reason = describe(found)
            assert reason.startswith(f"{len(found)} difference") or not found
            differing += bool(found)
        # Both ways, the same differences (each seen from the other side).
        assert len(compare_formats(html, xml)) == len(compare_formats(xml, html)), treaty
    # Eight years apart, every compared treaty changed but one: ENMOD (XXVI-1), whose 2018 file
    # and 2026 page agree, cell for cell, across the two formats.
    assert compare_formats(*statuses["XXVI-1"]) == ()
    assert differing == 2 * (len(statuses) - 1)
    assert (len(statuses), len(rejected)) == (22, 8)


def test_what_changed_in_eight_years_reads_as_differences(parsed):
    statuses, _ = parsed
    # Belarus withdrew from the ICCPR's first Optional Protocol (bracketed since 2022).
    assert "Belarus (BLR), consent: bracketed (withdrawn) in the html, not in the xml" in [
        d.words for d in compare_formats(*statuses["IV-5"])
    ]
    # The Russian Federation's CTBT ratification of 2000, gone from the 2026 page.
    ctbt = [d.words for d in compare_formats(*statuses["XXVI-4"])]
    assert any(
        w.startswith("Russian Federation (RUS), consent: the xml has ratification") for w in ctbt
    ), ctbt


def test_the_tpnw_of_2018_against_its_2026_page_in_words(parsed):
    statuses, _ = parsed
    html, xml = statuses["XXVI-9"]
    found = compare_formats(html, xml)
    words = [d.words for d in found]
    # 2018: 3 parties; 2026: 74. Counts and entry into force differ; the States that joined
    # since are listed in the html only, or have a consent cell the xml lacks.
    assert "printed count of parties: 74 in the html, 3 in the xml" in words
    assert any(w.startswith("printed entry into force: 22 Jan 2021 in the html") for w in words)
    assert sum("is listed in the html but not in the xml" in w for w in words) > 0
    assert not any("is listed in the xml but not in the html" in w for w in words)
