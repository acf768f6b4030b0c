"""The project's own UNTC status pages for the API contract, schemathesis and the TPNW replays.

Rendered in UNTC's ViewDetails markup (`support.untc_render`), never copied from the real
captures: one page per treaty of the real Feb 2026 set (the same 30 MTDSG numbers and the
catalogue's titles), with illustrative participants (pycountry names) and dates. Two pages are
built to the figures the tests assert (which are also the real pages' figures, checked against
them in tests/conformance):

- TPNW (XXVI-9): 99 rows, 95 signatories, 74 parties; Austria signed on 20 Sep 2017 and ratified
  on 8 May 2018; Honduras's instrument of 24 Oct 2020 is the 50th; in force on 22 Jan 2021.
  Three parties ratified in 2017: the Jan 2018 page of `write_tpnw_replay` lists them.
- CTBT (XXVI-4): 35 of the 44 Annex 2 States have ratified (the DPRK, which has not signed, is
  not listed); not in force.

Every other treaty has its catalogue threshold plus two instruments, deposited from 2000 on, so
it is in force long before the tests' today; the Ottawa Convention (XXVI-5) lists four withdrawn
States (Estonia, Finland, Latvia, Lithuania, bracketed as UNTC prints a withdrawal).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pycountry

from support.untc_render import Page, Row, render
from tracker.catalogue import catalogue

TREATIES = (
    "IV-2",
    "IV-3",
    "IV-3-a",
    "IV-4",
    "IV-5",
    "IV-8",
    "IV-8-b",
    "IV-9",
    "IV-9-b",
    "IV-11",
    "IV-11-b",
    "IV-11-c",
    "IV-11-d",
    "IV-12",
    "IV-13",
    "IV-15",
    "IV-15-a",
    "IV-16",
    "XXVI-1",
    "XXVI-2",
    "XXVI-2-a",
    "XXVI-2-b",
    "XXVI-2-c",
    "XXVI-2-d",
    "XXVI-3",
    "XXVI-4",
    "XXVI-5",
    "XXVI-6",
    "XXVI-8",
    "XXVI-9",
)
CHAPTERS = {"IV": 4, "XVIII": 18, "XXVI": 26, "XXVII": 27}
TPNW_SIGNED = date(2017, 9, 20)
AUSTRIA_RATIFIED = date(2018, 5, 8)
TPNW_FIFTIETH = date(2020, 10, 24)  # Honduras
TPNW_IN_FORCE = "22 January 2021, in accordance with article 15(1)."
WITHDRAWN = {"XXVI-5": ("Estonia", "Finland", "Latvia", "Lithuania")}  # Ottawa, 2025
UN_NAMES = {"USA": "United States of America"}  # as UNTC prints it (pycountry: "United States")
CTBT_MISSING = ("CHN", "PRK", "EGY", "IND", "IRN", "ISR", "PAK", "RUS", "USA")


def url_of(treaty_id: str) -> str:
    chapter = CHAPTERS[treaty_id.split("-")[0]]
    return (
        "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY"
        f"&mtdsg_no={treaty_id}&chapter={chapter}&clang=_en"
    )


@cache
def _names() -> tuple[str, ...]:
    """pycountry's names, in alpha-3 order (the parser maps each back to its code)."""
    return tuple(c.name for c in sorted(pycountry.countries, key=lambda c: c.alpha_3))


def name_of(iso3: str) -> str:
    return str(pycountry.countries.get(alpha_3=iso3).name)


def _title(treaty_id: str) -> str:
    rule = catalogue("untc").rules[treaty_id]
    assert rule.title, treaty_id
    return rule.title


def tpnw_rows(until: date | None = None) -> list[Row]:
    """TPNW's 99 rows; with `until`, only the instruments deposited by then."""
    others = [n for n in _names() if n not in ("Austria", "Honduras")]
    before = others[:48]  # with Austria: 49 instruments before Honduras's
    after = others[48:72]  # 24 after it
    signed_only = others[72:97]  # 25 signatories that are not parties
    rows = [Row("Austria", signature=TPNW_SIGNED, consent=AUSTRIA_RATIFIED)]
    for i, name in enumerate(before):
        # The first three ratified in 2017: the parties of the Jan 2018 snapshot.
        day = date(2017, 10, 2) + timedelta(days=30 * i) if i < 3 else None
        rows.append(Row(name, TPNW_SIGNED, day or date(2018, 6, 1) + timedelta(days=16 * i)))
    rows.append(Row("Honduras", TPNW_SIGNED + timedelta(days=1), TPNW_FIFTIETH))
    for i, name in enumerate(after):
        consent = TPNW_FIFTIETH + timedelta(days=30 * (i + 1))
        # The last four joined by accession, without signing (95 signatories of 99 rows).
        if i >= 20:
            rows.append(Row(name, None, consent, letter="a"))
        else:
            rows.append(Row(name, TPNW_SIGNED, consent))
    rows += [Row(name, TPNW_SIGNED + timedelta(days=2)) for name in signed_only]
    if until is not None:
        rows = [
            Row(r.name, r.signature, r.consent, r.letter)
            if r.consent is None or r.consent <= until
            else Row(r.name, r.signature)
            for r in rows
            if r.signature is not None or (r.consent is not None and r.consent <= until)
        ]
    rows.sort(key=lambda r: r.name)
    return rows


def tpnw_page(until: date | None = None, status_as_at: str = "03-02-2026 10:16:18 EST") -> bytes:
    """TPNW's status page (as of Feb 2026, or with the instruments deposited by `until`)."""
    in_force = until is None or until >= date(2021, 1, 22)
    return render(
        Page(
            treaty_id="XXVI-9",
            title=_title("XXVI-9"),
            rows=tpnw_rows(until),
            in_force=TPNW_IN_FORCE if in_force else None,
            eif_text_not_in_force="(see article 15(1)).",
            status_as_at=status_as_at,
        )
    )


def write_tpnw_replay(directory: Path) -> tuple[Path, Path]:
    """TPNW's Jan 2018 page (3 parties) and its Feb 2026 page (74), written as
    `XXVI-9__2018.html` and `XXVI-9__tpnw.html` (the real capture's name) under `directory`."""
    first = directory / "XXVI-9__2018.html"
    second = directory / "XXVI-9__tpnw.html"
    first.write_bytes(tpnw_page(date(2018, 1, 15), status_as_at="15-01-2018 09:00:00 EST"))
    second.write_bytes(tpnw_page())
    return first, second


def _ctbt_page() -> bytes:
    group = catalogue("untc").rules["XXVI-4"].all_of
    assert group is not None
    annex = list(group.participants)
    rows = []
    for i, code in enumerate(annex):
        if code == "PRK":
            continue  # has not signed: not on the page (the dashboard names it from its code)
        ratified = None if code in CTBT_MISSING else date(1997, 1, 6) + timedelta(days=40 * i)
        rows.append(Row(UN_NAMES.get(code, name_of(code)), date(1996, 9, 24), ratified))
    extra = [n for n in _names() if n not in {name_of(c) for c in annex}][:20]
    rows += [
        Row(n, date(1996, 9, 25), date(2001, 3, 1) + timedelta(days=30 * i))
        for i, n in enumerate(extra)
    ]
    rows.sort(key=lambda r: r.name)
    return render(
        Page(
            treaty_id="XXVI-4",
            title=_title("XXVI-4"),
            rows=rows,
            consent_header="Ratification",
            eif_text_not_in_force="(see article XIV).",
        )
    )


def _plain_page(treaty_id: str) -> bytes:
    rule = catalogue("untc").rules[treaty_id]
    assert rule.threshold is not None, treaty_id
    gone = WITHDRAWN.get(treaty_id, ())
    names = [n for n in _names() if n not in gone][: rule.threshold + 4]
    start = date(2000, 1, 3)
    rows = [
        Row(name, start, start + timedelta(days=20 * (i + 1)))
        for i, name in enumerate(names[: rule.threshold + 2])
    ]
    rows += [Row(name, start) for name in names[rule.threshold + 2 :]]  # two signatories only
    # Withdrawn: every dated cell bracketed, as UNTC prints it.
    rows += [Row(n, start, date(2001, 5, 2), withdrawn=True) for n in gone]
    rows.sort(key=lambda r: r.name)
    return render(
        Page(
            treaty_id=treaty_id,
            title=_title(treaty_id),
            rows=rows,
            in_force="1 January 2005, in accordance with its final clauses.",
        )
    )


def page_of(treaty_id: str) -> bytes:
    if treaty_id == "XXVI-9":
        return tpnw_page()
    if treaty_id == "XXVI-4":
        return _ctbt_page()
    return _plain_page(treaty_id)


def status_pages() -> list[tuple[str, str, bytes]]:
    """(treaty id, UNTC URL, page) for the 30 treaties."""
    return [(t, url_of(t), page_of(t)) for t in TREATIES]
