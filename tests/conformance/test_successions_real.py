"""Predecessor instruments read from the 30 real ViewDetails pages (2026).

Skips, with the reason, when shared/fixtures/real is absent (see conftest.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from tracker.domain.models import TreatyStatus
from tracker.domain.successions import predecessor_instruments
from tracker.sources.untc.footnotes import FOOTNOTES

# slow: reads the real depositary pages of ../shared (hundreds of files) to set up
pytestmark = pytest.mark.slow

YUG = ("BIH", "HRV", "MKD", "SRB", "SVN")
CS = ("CZE", "SVK")
GDR = "German Democratic Republic"

# (predecessor, kind, date, successors) per page; every page not listed has none.
INSTRUMENTS: dict[str, set[tuple[str, str, date, tuple[str, ...]]]] = {
    "IV-2": {  # CERD. The GDR's accession (23 March 1973) is not here: see the test below.
        ("Czechoslovakia", "ratification", date(1966, 12, 29), CS),
        ("Yugoslavia", "ratification", date(1967, 10, 2), YUG),
        ("Yemen Arab Republic", "accession", date(1989, 4, 6), ("YEM",)),
    },
    "IV-3": {  # ICESCR ("Convenant" misspelt in the Yugoslavia note)
        ("Czechoslovakia", "ratification", date(1975, 12, 23), CS),
        (GDR, "ratification", date(1973, 11, 8), ("DEU",)),
        ("Yugoslavia", "ratification", date(1971, 6, 2), YUG),
    },
    "IV-4": {  # ICCPR
        ("Czechoslovakia", "ratification", date(1975, 12, 23), CS),
        (GDR, "ratification", date(1973, 11, 8), ("DEU",)),
        ("Yugoslavia", "ratification", date(1971, 6, 2), YUG),
    },
    "IV-5": {("Czechoslovakia", "accession", date(1991, 3, 12), CS)},  # "acceded", no "had"
    "IV-8": {  # CEDAW
        ("Czechoslovakia", "ratification", date(1982, 2, 16), CS),
        (GDR, "ratification", date(1980, 7, 9), ("DEU",)),
        ("Yugoslavia", "ratification", date(1982, 2, 26), YUG),
    },
    "IV-9": {  # CAT (Slovenia acceded on its own: not in the Yugoslavia note)
        ("Czechoslovakia", "ratification", date(1988, 7, 7), CS),
        (GDR, "ratification", date(1987, 9, 9), ("DEU",)),
        ("Yugoslavia", "ratification", date(1991, 9, 10), ("BIH", "HRV", "MKD", "SRB")),
    },
    "IV-11": {  # CRC
        ("Czechoslovakia", "ratification", date(1991, 1, 7), CS),
        (GDR, "ratification", date(1990, 10, 2), ("DEU",)),
        ("Yugoslavia", "ratification", date(1991, 1, 3), YUG),
    },
    "IV-12": {(GDR, "ratification", date(1990, 8, 16), ("DEU",))},  # "signed and ratified"
    "XXVI-1": {  # ENMOD
        ("Czechoslovakia", "ratification", date(1978, 5, 12), CS),
        (GDR, "ratification", date(1978, 5, 25), ("DEU",)),
        ("Democratic Yemen", "accession", date(1979, 6, 12), ("YEM",)),
    },
    "XXVI-2": {  # CCW
        ("Czechoslovakia", "ratification", date(1982, 8, 31), CS),
        (GDR, "ratification", date(1982, 7, 20), ("DEU",)),
        ("Yugoslavia", "ratification", date(1983, 5, 24), YUG),
    },
}

# Succession rows whose footnotes do not give a predecessor's instrument, checked by eye:
# Montenegro's notes only point to the "Historical Information" section; the decolonization
# successions (Antigua and Barbuda, Bahamas, Fiji, Solomon Islands, ...) carry no footnote or,
# IV-3 Solomon Islands, only a note on maintaining the United Kingdom's reservations.
UNREADABLE: dict[str, tuple[str, ...]] = {
    "IV-2": ("ATG", "BHS", "FJI", "MNE", "SLB", "LCA", "SUR"),
    "IV-3": ("MNE", "SLB"),
    "XXVI-1": ("ATG", "DMA", "SLB", "LCA", "VCT"),
    "XXVI-5": ("MNE", "SSD"),
    **dict.fromkeys(
        (
            "IV-4",
            "IV-5",
            "IV-8",
            "IV-8-b",
            "IV-9",
            "IV-11",
            "IV-11-b",
            "IV-11-c",
            "IV-12",
            "XXVI-2",
            "XXVI-2-a",
            "XXVI-2-c",
            "XXVI-3",
            "XXVI-4",
        ),
        ("MNE",),
    ),
}
UNREADABLE_TOTAL = 30
UNREADABLE_REASONS = {
    "no footnote gives the predecessor's instrument": 18,  # 17 Montenegro rows + IV-3 Solomon Is.
    "no footnote on its row": 12,
}


def _statuses(html_outcomes: list[Any]) -> dict[str, TreatyStatus]:
    pages = {o.entry["mtdsg"]: o.status for o in html_outcomes}
    assert len(pages) == 30 and all(s is not None for s in pages.values())
    return pages


def test_predecessor_instruments_of_every_page(html_outcomes: list[Any]) -> None:
    for treaty, status in _statuses(html_outcomes).items():
        got = {
            (i.predecessor, i.kind, i.date, i.successors)
            for i in predecessor_instruments(status, FOOTNOTES).instruments
        }
        assert got == INSTRUMENTS.get(treaty, set()), treaty


def test_every_instrument_names_rows_of_its_page(html_outcomes: list[Any]) -> None:
    for treaty, status in _statuses(html_outcomes).items():
        rows = {p.key: p for p in status.participants}
        for i in predecessor_instruments(status, FOOTNOTES).instruments:
            assert set(i.successors) <= rows.keys(), (treaty, i)
            assert any(i.footnote in rows[k].footnotes for k in i.successors), (treaty, i)


def test_unreadable_successions(html_outcomes: list[Any]) -> None:
    reasons: Counter[str] = Counter()
    total = 0
    for treaty, status in _statuses(html_outcomes).items():
        unreadable = predecessor_instruments(status, FOOTNOTES).unreadable
        assert tuple(u.participant for u in unreadable) == UNREADABLE.get(treaty, ()), treaty
        assert all(not u.participant.startswith("name:") for u in unreadable)
        reasons.update(u.reason for u in unreadable)
        total += len(unreadable)
    assert total == UNREADABLE_TOTAL
    assert reasons == UNREADABLE_REASONS


def test_cerd_gdr_note_is_not_on_a_participant_row(html_outcomes: list[Any]) -> None:
    """On IV-2 the GDR's accession note (3) hangs on "Germany" in the declarations section,
    not on Germany's row of the participants table, so it is not read (only row notes are)."""
    cerd = _statuses(html_outcomes)["IV-2"]
    note = {f.ref: f.text for f in cerd.footnotes}["3"]
    assert note.startswith("The German Democratic Republic had acceded to the Convention on 23")
    assert not any("3" in p.footnotes for p in cerd.participants)
    assert GDR not in {i.predecessor for i in predecessor_instruments(cerd, FOOTNOTES).instruments}
