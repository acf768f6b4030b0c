"""WIPO Lex ids (WIPO's treaty_id), their public form WIPO-N, URLs and the configured catalogue."""

from __future__ import annotations

import pytest

from tests.support import wipo_fixtures
from tracker.sources import registry
from tracker.sources.wipo import treaties
from tracker.sources.wipo.ids import BadTreatyId, check_id, sort_key
from tracker.sources.wipo.urls import status_page_url, treaty_from_link


def test_treaty_ids_are_digits():
    assert check_id("843") == 843 and check_id("1") == 1
    for bad in ["", "0", "08", "WIPO-843", "843a", "XXVI-9", " 843", "1234567"]:
        with pytest.raises(BadTreatyId, match="not a WIPO Lex treaty id"):
            check_id(bad)


def test_ids_sort_as_numbers():
    assert sorted(["843", "15", "2", "841", "30"], key=sort_key) == ["2", "15", "30", "841", "843"]


def test_the_source_is_registered_with_prefixed_public_ids():
    wipo = registry.get("wipo")
    assert (wipo.title, wipo.default_base_url, wipo.spider, wipo.id_prefix) == (
        "WIPO Lex (treaties administered by WIPO)",
        "https://www.wipo.int",
        "spiders.wipo",
        "WIPO-",
    )
    assert registry.public_id("wipo", "843") == "WIPO-843"
    for typed in ("WIPO-843", "wipo-843"):
        source, own = registry.split_id(typed)
        assert (source.slug, own) == ("wipo", "843")
    source, own = registry.split_id("XXVI-9")
    assert (source.slug, own) == ("untc", "XXVI-9")
    # UNTC's first, then WIPO's in numeric order.
    ids = ["WIPO-843", "XXVI-9", "WIPO-15", "IV-4", "WIPO-2"]
    assert sorted(ids, key=registry.sort_key) == ["IV-4", "XXVI-9", "WIPO-2", "WIPO-15", "WIPO-843"]


def test_status_urls_are_built_and_recognised():
    url = status_page_url("https://www.wipo.int/", "843")
    assert url == "https://www.wipo.int/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=843"
    assert treaty_from_link(url) == "843"
    assert treaty_from_link("/wipolex/fr/treaties/ShowResults?treaty_id=15&search_what=C") == "15"
    assert treaty_from_link("/wipolex/en/treaties/ShowResults?search_what=B&treaty_id=15") is None
    assert treaty_from_link("/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=x") is None
    assert treaty_from_link("/wipolex/en/members/profile/AF") is None
    with pytest.raises(BadTreatyId):
        status_page_url("https://www.wipo.int", "WIPO-843")


def test_the_catalogue_lists_the_26_treaties_once_each_with_their_names():
    ids = treaties.treaty_ids()
    assert len(ids) == len(set(ids)) == 26
    assert list(ids) == sorted(ids, key=sort_key)
    for treaty_id in ids:
        check_id(treaty_id)
    assert treaties.name_of("843") == "Marrakesh VIP Treaty"
    assert treaties.name_of("29") == "Washington Treaty"
    assert treaties.name_of("999") is None


def test_the_committed_fixtures_are_what_the_renderer_makes():
    made = wipo_fixtures.pages()
    on_disk = {p.name: p.read_bytes() for p in wipo_fixtures.FOLDER.glob("*.html")}
    assert on_disk == made
