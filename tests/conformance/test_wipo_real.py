"""The wipo parser against the 26 real WIPO Lex Contracting Parties pages of 2026-02-03.

The files live in shared/fixtures/real beside the repository (MANIFEST.md section C); every test
here skips, with the reason, when that folder is absent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
import pytest
from lxml import html
from support.real import ABSENT, REAL

from tracker.domain.models import Column, TreatyStatus
from tracker.sources import wipo
from tracker.sources.wipo import treaties
from tracker.sources.wipo.validate import members

pytestmark = pytest.mark.slow  # reads 26 real pages of ../shared

# Per page: treaty_id -> (rows, Total Members, instruments, signatures). Rows and members are
# MANIFEST.md's; instruments and signatures were counted on the pages. "Members" are the rows
# with an In Force date (tracker/sources/wipo/validate.py says why); instruments differ from
# them on four pages: TLT (5) 57 vs 55, Paris (2) 180 vs 181, Madrid Indications (3) 35 vs 36,
# WIPO Convention (1) 193 vs 194.
FIGURES: dict[str, tuple[int, int | None, int, int]] = {
    "841": (99, 48, 48, 74),
    "15": (182, 182, 182, 8),
    "19": (50, 40, 40, 18),
    "7": (93, 92, 92, 18),
    "9": (83, 82, 82, 7),
    "10": (49, 30, 30, 11),
    "14": (70, 63, 63, 22),
    "3": (37, 36, 35, 8),
    "21": (56, 55, 55, 8),
    "8": (117, 116, 116, 27),
    "843": (135, 101, 101, 80),
    "22": (73, 56, 56, 38),
    "12": (96, 96, 96, 22),
    "2": (181, 181, 180, 8),
    "6": (160, 158, 158, 35),
    "18": (84, 81, 81, 32),
    "4": (77, 44, 44, 54),
    "17": (102, 99, 99, 26),
    "30": (81, 56, 56, 54),
    "11": (70, 68, 68, 23),
    "5": (78, 55, 57, 51),
    "13": (52, 41, 41, 18),
    "29": (10, None, 3, 8),
    "16": (125, 118, 118, 51),
    "1": (194, 194, 193, 50),
    "20": (121, 114, 114, 50),
}
# The instrument kinds over the 26 pages, as the parser names them (WIPO's words: 1521
# accessions, 527 ratifications, 130 declarations of continued application and 25
# declarations/notifications of succession, 4 acceptances, 1 approval).
KINDS_SEEN = {
    "accession": 1521,
    "ratification": 527,
    "succession": 155,
    "acceptance": 4,
    "approval": 1,
}
# The organizations among the participants (no ISO code), by treaty.
ORGANIZATIONS = {
    "841": {"European Union (EU)"},
    "9": {"African Intellectual Property Organization (OAPI)", "European Union (EU)"},
    "10": {"African Intellectual Property Organization (OAPI)", "European Union (EU)"},
    "8": {"African Intellectual Property Organization (OAPI)", "European Union (EU)"},
    "843": {"European Union (EU)"},
    "4": {"Eurasian Patent Organization (EAPO)", "European Patent Organisation (EPO)"},
    "30": {
        "African Intellectual Property Organization (OAPI)",
        "Benelux Organization for Intellectual Property (BOIP)",
    },
    "5": {"European Union (EU)"},
    "16": {"European Union (EU)"},
    "20": {"European Union (EU)"},
}


@cache
def _entries() -> tuple[dict[str, Any], ...]:
    index = REAL / "index.json"
    if not index.exists():
        return ()
    return tuple(e for e in json.loads(index.read_text("utf-8")) if e["kind"] == "wipo_lex_html")


def _file(entry: dict[str, Any]) -> Path:
    return REAL.parent.parent / entry["path"]


def _id(entry: dict[str, Any]) -> str:
    return re.search(r"treaty_id=(\d+)", entry["original_url"]).group(1)


@cache
def _parse(path: str, url: str, treaty_id: str) -> TreatyStatus:
    return wipo.parse(Path(path).read_bytes(), url=url, expected_treaty=treaty_id)


def _status(entry: dict[str, Any]) -> TreatyStatus:
    return _parse(str(_file(entry)), entry["original_url"], _id(entry))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "entry" in metafunc.fixturenames:
        found = _entries()
        if found:
            metafunc.parametrize("entry", found, ids=[Path(e["path"]).stem for e in found])
        else:
            metafunc.parametrize("entry", [pytest.param(None, marks=pytest.mark.skip(ABSENT))])


@pytest.fixture
def every() -> list[tuple[dict[str, Any], TreatyStatus]]:
    found = _entries()
    if not found:
        pytest.skip(ABSENT)
    return [(e, _status(e)) for e in found]


def test_each_page_is_accepted_as_the_treaty_asked_for(entry: dict[str, Any]) -> None:
    status = _status(entry)
    treaty_id = _id(entry)
    rows, total, instruments, signatures = FIGURES[treaty_id]
    assert status.treaty_id == treaty_id
    assert treaties.name_of(treaty_id) == status.title
    assert entry["treaty"].startswith(status.title)
    assert len(status.participants) == rows == entry["rows"]
    assert status.published_parties == total
    assert (
        str(total) == entry["total_members"] if total else entry["total_members"] in ("", None, "—")
    )
    assert members(status) == (total or 0)
    assert status.parties == instruments and status.signatories == signatures
    assert status.in_force is (total is not None)
    assert status.status_as_at is None


def test_every_participant_has_iso3_or_is_an_organization(entry: dict[str, Any]) -> None:
    status = _status(entry)
    unknown = {p.name for p in status.participants if p.iso3 is None and not p.reio}
    assert unknown == set()
    organizations = {p.name for p in status.participants if p.reio}
    assert organizations == ORGANIZATIONS.get(_id(entry), set())
    assert all(p.iso3 is None for p in status.participants if p.reio)


def test_each_remarks_link_names_the_participants_own_country(entry: dict[str, Any]) -> None:
    """The Details link carries WIPO's code of the member (ISO alpha-2, or the organization's
    acronym): every alpha-2 one agrees with the ISO code read from the printed name."""
    root = html.fromstring(_file(entry).read_bytes())
    codes: dict[str, str] = {}
    for tr in root.xpath('//table[@id="wipoTreatiesTable"]/tbody/tr'):
        link = tr.xpath(".//a[contains(@href, '/treaties/parties/remarks/')]/@href")
        if link:
            codes[" ".join(tr.xpath("./td")[0].text_content().split())] = link[0].split("/")[-2]
    status = _status(entry)
    compared = 0
    for p in status.participants:
        code = codes.get(p.name)
        if code is None:
            continue
        if p.reio:  # "European Union (EU)": WIPO's code is the acronym it prints
            assert p.name.endswith(f"({code})"), p.name
        else:
            assert pycountry.countries.get(alpha_2=code).alpha_3 == p.iso3, p.name
        compared += 1
    assert compared == len(codes)


def test_totals_over_the_26_pages(every: list[tuple[dict[str, Any], TreatyStatus]]) -> None:
    kinds = Counter(
        a.kind
        for _, s in every
        for p in s.participants
        for a in p.actions
        if a.column is Column.CONSENT
    )
    signatures = sum(s.signatories for _, s in every)
    rows = sum(len(s.participants) for _, s in every)
    printed = sum(1 for _, s in every for p in s.participants if p.published_in_force_from)
    no_instrument = sorted(
        (s.treaty_id, p.name)
        for _, s in every
        for p in s.participants
        if p.published_in_force_from and p.consent is None
    )
    not_yet = sorted(
        (s.treaty_id, p.name)
        for _, s in every
        for p in s.participants
        if p.consent and not p.published_in_force_from
    )
    print(f"\nWIPO Lex: {len(every)} pages, {rows} rows, {printed} members (In Force dates)")
    print(f"  instruments by kind: {dict(kinds.most_common())}; signatures {signatures}")
    print(f"  members without an instrument: {no_instrument}")
    print(f"  instruments without an In Force date: {not_yet}")
    assert len(every) == 26
    assert dict(kinds) == KINDS_SEEN
    assert rows == sum(f[0] for f in FIGURES.values()) == 2475
    assert printed == sum(f[1] or 0 for f in FIGURES.values())
    assert no_instrument == [("1", "Ireland"), ("2", "Viet Nam"), ("3", "New Zealand")]
    assert not_yet == [
        ("29", "Bosnia and Herzegovina"),
        ("29", "Egypt"),
        ("29", "Saint Lucia"),
        ("5", "Burkina Faso"),
        ("5", "Guinea"),
    ]
