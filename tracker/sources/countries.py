"""Printed participant names -> ISO 3166 alpha-3 (pycountry plus UN forms), REIOs flagged."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pycountry


@dataclass(frozen=True)
class Identity:
    """What a printed participant name identifies: an ISO alpha-3 code and/or a REIO flag."""

    iso3: str | None
    reio: bool = False


# Regional economic integration organizations: participants without an ISO code.
REIOS: frozenset[str] = frozenset(
    {
        "european union",
        "european community",
        "european communities",
        "european economic community",
        "european atomic energy community",
    }
)

# Intergovernmental organizations that are parties in their own right where a treaty lets them
# (WIPO's: the Madrid Protocol, Hague, PCT's regional offices, Marrakesh, Lisbon's Geneva Act),
# with the acronym WIPO Lex prints after the name ("European Union (EU)"). Flagged like the REIOs:
# no ISO code; the rules decide whether they count beside their member States.
ORGANIZATIONS: dict[str, str] = {
    "european union": "EU",
    "african intellectual property organization": "OAPI",
    "african regional intellectual property organization": "ARIPO",
    "benelux organization for intellectual property": "BOIP",
    "benelux office for intellectual property": "BOIP",
    "eurasian patent organization": "EAPO",
    "european patent organisation": "EPO",
    "european patent organization": "EPO",
}

# UN printed forms that pycountry does not spell the same way (keys are folded, see `_fold`).
OVERRIDES: dict[str, str] = {
    "bahamas (the)": "BHS",
    "the bahamas": "BHS",
    "bolivia (plurinational state of)": "BOL",
    "bolivia": "BOL",
    "côte d'ivoire": "CIV",
    "cote d'ivoire": "CIV",
    "czechia": "CZE",
    "czech republic": "CZE",
    "democratic people's republic of korea": "PRK",
    "republic of korea": "KOR",
    "democratic republic of the congo": "COD",
    "iran (islamic republic of)": "IRN",
    "micronesia (federated states of)": "FSM",
    "netherlands (kingdom of the)": "NLD",
    "venezuela (bolivarian republic of)": "VEN",
    "venezuela": "VEN",
    "türkiye": "TUR",
    "turkey": "TUR",
    "viet nam": "VNM",
    "state of palestine": "PSE",
    "holy see": "VAT",
    "the former yugoslav republic of macedonia": "MKD",
    "north macedonia": "MKD",
    "cook islands": "COK",
    "niue": "NIU",
    "united kingdom of great britain and northern ireland": "GBR",
    "united states of america": "USA",
    "united republic of tanzania": "TZA",
    "republic of moldova": "MDA",
    "lao people's democratic republic": "LAO",
    "swaziland": "SWZ",
    "st. kitts and nevis": "KNA",
    "st. lucia": "LCA",
    "st. vincent and the grenadines": "VCT",
    "cape verde": "CPV",
    # States that only changed their name keep their current code (same legal person).
    "burma": "MMR",
    "zaire": "COD",
    "dahomey": "BEN",
    "upper volta": "BFA",
    "east timor": "TLS",
    "byelorussian soviet socialist republic": "BLR",
    "byelorussian ssr": "BLR",
    "ukrainian soviet socialist republic": "UKR",
    "ukrainian ssr": "UKR",
    # Dissolved States: ISO 3166-3 codes (pycountry.historic_countries).
    "czechoslovakia": "CSK",
    "yugoslavia": "YUG",
    "socialist federal republic of yugoslavia": "YUG",
    "union of soviet socialist republics": "SUN",
    "ussr": "SUN",
    "german democratic republic": "DDR",
    "serbia and montenegro": "SCG",
    "democratic yemen": "YMD",
}


def _fold(name: str) -> str:
    """Comparable form of a name: NFC, casefolded, one space, straight apostrophes."""
    text = unicodedata.normalize("NFC", name).replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\xa0", " ").replace("*", " ")
    return " ".join(text.casefold().split())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Folded name -> alpha-3 from pycountry (current and historic), then the overrides."""
    table: dict[str, str] = {}
    for hist in pycountry.historic_countries:
        for attr in ("name", "official_name"):
            value = getattr(hist, attr, None)
            if value:
                table.setdefault(_fold(value), hist.alpha_3)
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[_fold(value)] = country.alpha_3
    table.update(OVERRIDES)
    return table


_PAREN_RE = re.compile(r"^(.*?)\s*\((.+)\)$")
_ACRONYM_RE = re.compile(r"^(.*\S)\s*\(([A-Z]{2,6})\)$")


def _organization(name: str) -> bool:
    """An intergovernmental organization, printed alone or with its own acronym after it."""
    key = _fold(name)
    if key in REIOS or key in ORGANIZATIONS:
        return True
    m = _ACRONYM_RE.match(" ".join(unicodedata.normalize("NFC", name).split()))
    if not m:
        return False
    base = _fold(m.group(1))
    return base in REIOS or ORGANIZATIONS.get(base) == m.group(2)


@lru_cache(maxsize=4096)
def identify(name: str) -> Identity:
    """Identity of a printed participant name; iso3 None when unknown (never a fuzzy guess)."""
    key = _fold(name)
    if _organization(name):
        return Identity(None, reio=True)
    table = _table()
    if key in table:
        return Identity(table[key])
    m = _PAREN_RE.match(
        key
    )  # "Bolivia (Plurinational State of)" -> "bolivia, plurinational state of"
    if m and f"{m.group(1)}, {m.group(2)}" in table:
        return Identity(table[f"{m.group(1)}, {m.group(2)}"])
    return Identity(None)


def iso3(name: str) -> str | None:
    """ISO 3166 alpha-3 code for a printed participant name, or None."""
    return identify(name).iso3
