"""The reference list of UN Member States and observer States (tracker/reference/un_members.toml):
193 Members with valid, unique ISO codes, their dates of admission, the 51 original Members of
1945, the two observer States, and names the tracker's own name table maps back to the code."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pycountry
import pytest

from tracker.reference import load, un_members
from tracker.sources.countries import iso3

REF = un_members()
FIRST = date(1945, 10, 24)  # the Charter's entry into force
LAST = date(2011, 7, 14)  # South Sudan


def test_193_members_with_unique_valid_codes():
    codes = [s.iso3 for s in REF.members]
    assert len(codes) == 193
    assert not [c for c, n in Counter(codes).items() if n > 1]
    assert [c for c in codes if pycountry.countries.get(alpha_3=c) is None] == []
    assert len({s.name for s in REF.members}) == 193


def test_admission_dates_between_the_charter_and_south_sudan():
    dates = [s.admitted for s in REF.members]
    assert all(d is not None and FIRST <= d <= LAST for d in dates)
    last = max(REF.members, key=lambda s: s.admitted or FIRST)
    assert (last.iso3, last.admitted) == ("SSD", LAST)
    assert REF.member("CHE") is not None and REF.member("CHE").admitted == date(2002, 9, 10)
    assert REF.member("MNE").admitted == date(2006, 6, 28)


def test_the_51_original_members_of_1945():
    of_1945 = [s for s in REF.members if s.admitted and s.admitted.year == 1945]
    former = REF.former_original_members
    assert {s.iso3 for s in former} == {"CSK", "YUG"}  # dissolved: ISO 3166-3 codes
    assert all(pycountry.historic_countries.get(alpha_3=s.iso3) for s in former)
    originals = of_1945 + list(former)
    assert len(originals) == 51
    on_the_day = [s for s in originals if s.admitted == FIRST]
    assert len(on_the_day) > len(originals) / 2  # most on 24 October 1945 ...
    later = {s.iso3: s.admitted for s in originals if s.admitted != FIRST}
    assert later and all(d.year == 1945 and d > FIRST for d in later.values())  # ... some later
    assert later["AUS"] == date(1945, 11, 1) and later["NLD"] == date(1945, 12, 10)
    assert {"USA", "GBR", "FRA", "CHN", "RUS", "UKR", "BLR"} <= {s.iso3 for s in on_the_day}


def test_observer_states_are_not_members():
    observers = {s.iso3: s for s in REF.observers}
    assert set(observers) == {"VAT", "PSE"}
    assert observers["VAT"].name == "Holy See" and observers["PSE"].name == "State of Palestine"
    assert all(s.admitted is None and s.observer_since for s in REF.observers)
    assert not set(observers) & {s.iso3 for s in REF.members}
    assert all(pycountry.countries.get(alpha_3=c) for c in observers)


def test_names_as_the_un_writes_them_map_back_to_their_codes():
    """Every name (and the UN Treaty Collection's spelling, where it differs) is one the
    tracker's name table reads as that State: the list and the parsers agree."""
    wrong = [
        (s.iso3, name)
        for s in (*REF.members, *REF.observers)
        for name in (s.name, s.untc)
        if name and iso3(name) != s.iso3
    ]
    assert wrong == []
    names = {s.iso3: s.name for s in REF.members}
    assert names["TUR"] == "Türkiye" and names["CZE"] == "Czechia"
    assert names["NLD"] == "Netherlands (Kingdom of the)"
    assert names["GBR"] == "United Kingdom of Great Britain and Northern Ireland"


def test_the_list_says_what_it_is_and_which_version():
    described = REF.describe()
    assert described["id"] == "un_members" and isinstance(described["version"], int)
    assert "un.org" in described["citation"] and "Member States" in described["citation"]
    assert described["url"].startswith("https://www.un.org/")
    assert described["members"] == 193 and described["observers"] == ["VAT", "PSE"]
    assert date.fromisoformat(described["as_at"]) >= LAST


def test_a_list_file_is_read_with_its_own_figures(tmp_path: Path):
    path = tmp_path / "two.toml"
    path.write_text(
        'id = "two"\nversion = 3\nas_at = 2020-01-01\ntitle = "T"\ncitation = "C"\nurl = "U"\n'
        'members = [{ iso3 = "FRA", name = "France", admitted = 1945-10-24 }]\n'
        'observers = [{ iso3 = "VAT", name = "Holy See", observer_since = 1964-04-06 }]\n',
        encoding="utf-8",
    )
    two = load(path)
    assert (two.version, len(two.members), two.observers[0].iso3) == (3, 1, "VAT")
    assert two.member("FRA").admitted == FIRST and two.member("DEU") is None
    with pytest.raises(KeyError):
        load_missing = tmp_path / "bad.toml"
        load_missing.write_text('id = "x"\n', encoding="utf-8")
        load(load_missing)
