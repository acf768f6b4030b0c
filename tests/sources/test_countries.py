"""Printed participant names -> ISO 3166 alpha-3, REIO flags, no guessing."""

from __future__ import annotations

import pytest

from tracker.sources.countries import Identity, identify, iso3


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Bahamas (The)", "BHS"),
        ("Bahamas", "BHS"),
        ("Côte d'Ivoire", "CIV"),
        ("Côte d\u2019Ivoire", "CIV"),
        ("Czechia", "CZE"),
        ("Czech Republic", "CZE"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Republic of Korea", "KOR"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Viet Nam", "VNM"),
        ("State of Palestine", "PSE"),
        ("Holy See", "VAT"),
        ("The former Yugoslav Republic of Macedonia", "MKD"),
        ("North Macedonia", "MKD"),
        ("Cook Islands", "COK"),
        ("Niue", "NIU"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("United States of America", "USA"),
        ("Netherlands (Kingdom of the)", "NLD"),
        ("Venezuela (Bolivarian Republic of)", "VEN"),
        ("Micronesia (Federated States of)", "FSM"),
        ("Democratic Republic of the Congo", "COD"),
        ("Congo", "COG"),
        ("Lao People's Democratic Republic", "LAO"),
        ("Republic of Moldova", "MDA"),
        ("United Republic of Tanzania", "TZA"),
        ("Swaziland", "SWZ"),
        ("Eswatini", "SWZ"),
        ("St. Lucia", "LCA"),
        ("Niger", "NER"),
        ("Nigeria", "NGA"),
        ("Dominica", "DMA"),
        ("Dominican Republic", "DOM"),
    ],
)
def test_un_forms_map_to_iso3(name: str, code: str) -> None:
    assert iso3(name) == code
    assert not identify(name).reio


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Czechoslovakia", "CSK"),
        ("Yugoslavia", "YUG"),
        ("Union of Soviet Socialist Republics", "SUN"),
        ("USSR", "SUN"),
        ("German Democratic Republic", "DDR"),
        ("Serbia and Montenegro", "SCG"),
    ],
)
def test_dissolved_states_use_historic_codes(name: str, code: str) -> None:
    assert iso3(name) == code


@pytest.mark.parametrize(
    "name",
    [
        "European Union",
        "European Community",
        "European Economic Community",
        "European Atomic Energy Community",
    ],
)
def test_reios_are_flagged_without_code(name: str) -> None:
    assert identify(name) == Identity(None, reio=True)


@pytest.mark.parametrize(
    "name",
    [
        # As WIPO Lex prints its intergovernmental parties: the name, then its own acronym.
        "European Union (EU)",
        "African Intellectual Property Organization (OAPI)",
        "African Regional Intellectual Property Organization (ARIPO)",
        "Benelux Organization for Intellectual Property (BOIP)",
        "Eurasian Patent Organization (EAPO)",
        "European Patent Organisation (EPO)",
        "European Patent Organisation",
    ],
)
def test_intergovernmental_parties_are_flagged_without_code(name: str) -> None:
    assert identify(name) == Identity(None, reio=True)


@pytest.mark.parametrize(
    "name",
    # Another acronym than the organization's own, or an acronym after a State: not a guess.
    ["European Patent Organisation (EU)", "Atlantis (AT)", "Eurasian Patent Organization (X)"],
)
def test_an_acronym_is_only_read_as_the_organizations_own(name: str) -> None:
    assert identify(name) == Identity(None, reio=False)


@pytest.mark.parametrize(
    "name",
    ["Atlantis", "Germny", "International Labour Organisation", "Andean Community", "", "Korea"],
)
def test_unknown_names_are_none_never_a_guess(name: str) -> None:
    assert identify(name) == Identity(None, reio=False)


def test_case_whitespace_and_nbsp_are_folded() -> None:
    assert iso3("  united\xa0kingdom of great britain and  northern ireland ") == "GBR"
    assert iso3("CÔTE D'IVOIRE") == "CIV"


def test_lookups_are_cached() -> None:
    identify("Chile")
    before = identify.cache_info().hits
    identify("Chile")
    assert identify.cache_info().hits == before + 1
