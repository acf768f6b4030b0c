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


@lru_cache(maxsize=4096)
def identify(name: str) -> Identity:
    """Identity of a printed participant name; iso3 None when unknown (never a fuzzy guess)."""
    key = _fold(name)
    if key in REIOS:
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
