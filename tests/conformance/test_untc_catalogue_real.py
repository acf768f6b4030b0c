"""The whole UN catalogue: every real MTDSG number is a valid id and the catalogue walk reaches it.

Two real lists of MTDSG numbers: the 407 MTDSG XML files of January 2018 (file names, which equal
the numbers their headers compose) and a third party's parse of the 244 treaties of the UNTC
chapter pages of May 2026 (shared/fixtures/real/derived/untc_catalogue_index_2026-05-08: ids,
titles, "Place, date"). From each list the catalogue pages are generated in the site's markup
(tracker.sources.untc.mirror.catalogue_pages: the chapter list, each chapter's `subid=A` page,
each sub-chapter's page), served on loopback, and walked by the spider's own navigation
(tests/support/untc_walk.py): the status pages it asks for must be exactly the list.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from support.real import ABSENT, REAL
from support.untc_walk import walk

from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.ids import check_id, sort_key
from tracker.sources.untc.mirror import catalogue_pages
from tracker.sources.untc.urls import parse_treaty_id, subchapter_of

XML_DIR = REAL / "untc_mtdsg_xml_2018-01-15"
INDEX_2026 = (
    REAL
    / "derived"
    / "untc_catalogue_index_2026-05-08"
    / "untc_treaties_aspx_index_2026-05-08.json"
)

pytestmark = pytest.mark.skipif(not XML_DIR.is_dir(), reason=ABSENT)


def xml_numbers() -> dict[str, str]:
    """MTDSG number -> title of the 407 XML files (index.json, checked against the file names)."""
    entries = [
        e
        for e in json.loads((REAL / "index.json").read_text("utf-8"))
        if e["kind"] == "untc_mtdsg_xml"
    ]
    names = {p.name.removesuffix(".en.xml") for p in XML_DIR.glob("*.en.xml")}
    assert {e["mtdsg"] for e in entries} == names
    return {e["mtdsg"]: e["treaty"] for e in entries}


def numbers_2026() -> dict[str, str]:
    """MTDSG number -> link text (`Title. Place, date`, as the chapter pages print it)."""
    data = json.loads(INDEX_2026.read_text("utf-8"))
    return {t["ref"]: f"{t['title']}. {t['place_date']}" for t in data["treaties"]}


def form(treaty_id: str) -> str:
    """The shape of a number: XI-A-16 -> R-S-N, III-2-2a -> R-N-Nx, XXVII-7-d -> R-N-x."""
    n = parse_treaty_id(treaty_id)
    shape = "R" + ("-S" if n.subchapter else "") + "-N"
    if n.part:
        shape += "-" + re.sub(r"[a-z]", "x", re.sub(r"\d+", "N", n.part))
    return shape


def test_every_real_mtdsg_number_is_a_valid_id_of_one_of_five_forms():
    numbers = set(xml_numbers()) | (set(numbers_2026()) if INDEX_2026.exists() else set())
    for treaty_id in numbers:
        check_id(treaty_id)  # raises on any refused number
    forms = Counter(form(t) for t in xml_numbers())
    print(f"\nMTDSG number forms in the 407 XML files: {dict(sorted(forms.items()))}")
    assert forms == {"R-N": 229, "R-N-x": 135, "R-N-N": 18, "R-N-Nx": 7, "R-S-N": 18}
    # Their sort order is the depositary's: numbers, then parts; sub-chapters in order.
    ordered = sorted(xml_numbers(), key=sort_key)
    assert ordered.index("III-2-2") < ordered.index("III-2-2a") < ordered.index("III-2-3")
    assert ordered.index("XI-A-2") < ordered.index("XI-A-16") < ordered.index("XII-1")
    assert ordered[:3] == ["I-1", "I-2", "I-3"] and ordered[-1] == "XXIX-1"


def walk_generated(tmp_path, numbers: dict[str, str]):
    site = [(t, b, "text/html; charset=utf-8") for t, b in catalogue_pages(numbers.items())]
    with serve(build_mirror(tmp_path / "mirror", site)) as server:
        return walk(server.base_url)


def assert_all_catalogue_pages_read(found) -> None:
    assert found.failed == {}
    bad = {url: p.reason for url, p in found.pages.items() if p.outcome != "accepted"}
    assert bad == {}
    assert set(found.pages) == set(found.kinds)


def test_the_catalogue_walk_reaches_every_one_of_the_407_xml_numbers(tmp_path):
    numbers = xml_numbers()
    found = walk_generated(tmp_path, numbers)
    assert len(found.treaties) == len(set(found.treaties))  # each status page asked for once
    assert set(found.treaties) == set(numbers)
    assert_all_catalogue_pages_read(found)
    # 1 chapter list, chapters I-XXIX; chapter XI's numbers in the 2018 files are all in A.
    assert found.by_kind() == {"index": 1, "chapter": 29}
    assert {t for t in found.treaties if subchapter_of(t)} == {f"XI-A-{n}" for n in range(1, 19)}
    print(
        f"\ncatalogue walk: {len(set(found.treaties))}/{len(numbers)} MTDSG numbers of the 2018 "
        f"XML files reached from {len(found.pages)} catalogue pages {found.by_kind()}"
    )


@pytest.mark.skipif(not INDEX_2026.exists(), reason=ABSENT)
def test_the_catalogue_walk_reaches_every_treaty_of_the_2026_chapter_pages(tmp_path):
    numbers = numbers_2026()
    found = walk_generated(tmp_path, numbers)
    assert set(found.treaties) == set(numbers) and len(found.treaties) == len(numbers) == 244
    assert_all_catalogue_pages_read(found)
    # The third party's parse left out chapter XI (its pattern refused XI-A-16) and every
    # lettered part: 28 chapters, top-level numbers only.
    assert found.by_kind() == {"index": 1, "chapter": 28}
    print(
        f"\ncatalogue walk: {len(set(found.treaties))}/{len(numbers)} treaties of the 2026 "
        f"chapter pages (third-party parse) reached from {len(found.pages)} catalogue pages"
    )
