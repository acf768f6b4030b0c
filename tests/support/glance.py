"""Four UNTC treaties at four distances from entering into force (built statuses: run with the
`fake_parser` fixture), for the overview, `tracker treaties` and the calendar. Today is
2026-11-22 (TODAY).

- IV-3-a (threshold 10, 3 months): 8 instruments: not in force, 2 remaining. Its page prints a
  status as at 2026-01-20 but was observed on 2026-11-20: ten months old when read.
- XXVI-4, the Comprehensive Nuclear-Test-Ban Treaty (all 44 Annex 2 States): 3 of them: not in
  force, 41 remaining.
- XXVI-9, TPNW (50 instruments, 90 days): the 50th on 2026-11-01: threshold met, entry into force
  computed 2027-01-30 (upcoming; the page prints no date yet).
- IV-3, ICESCR (35, 3 months; a later State 3 months after its own): 35 instruments on 2000-01-03,
  in force 2000-04-03 by the rule while the page prints 2000-04-04 (they differ); Zambia's
  ratification of 2026-11-10 binds it from 2027-02-10 (an upcoming per-party date).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pycountry
from sqlalchemy.orm import Session, sessionmaker
from statuses import at, member, page, status

from tracker.services.crawl_records import record_crawl
from tracker.services.ingest import ingest_page

TODAY = date(2026, 11, 22)
TPNW_EIF = "2027-01-30"
ICESCR_COMPUTED, ICESCR_PRINTED = "2000-04-03", "2000-04-04"
ZAMBIA_BOUND = "2027-02-10"
CTBT_TITLE = "Comprehensive Nuclear-Test-Ban Treaty"
STALE_PRINTED, STALE_OBSERVED = "2026-01-20", "2026-11-20"
ORDER_CLOSEST = ["IV-3-a", "XXVI-4", "XXVI-9", "IV-3"]


def url(treaty: str) -> str:
    return f"https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no={treaty}"


def _codes(n: int, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    codes = [c for c in sorted(c.alpha_3 for c in pycountry.countries) if c not in skip]
    return [(pycountry.countries.get(alpha_3=c).name, c) for c in codes[:n]]


def seed_glance(session_factory: sessionmaker[Session]) -> None:
    """Ingest the four treaties (each observed once) and a good crawl of UNTC."""
    optional = status(
        *(member(n, c, consent=f"2015-0{1 + i % 8}-01") for i, (n, c) in enumerate(_codes(8))),
        treaty="IV-3-a",
        title="Optional Protocol to the International Covenant on Economic, Social and "
        "Cultural Rights",
        as_at=at(STALE_PRINTED, 0),
    )
    ctbt = status(
        member("Austria", "AUT", sig="1996-09-24", consent="1998-03-13"),
        member("France", "FRA", sig="1996-09-24", consent="1998-04-06"),
        member("Japan", "JPN", sig="1996-09-24", consent="1997-07-08"),
        member("Fiji", "FJI", sig="1996-09-24", consent="1996-10-10"),
        treaty="XXVI-4",
        title=CTBT_TITLE,
        as_at=at("2026-11-19", 0),
    )
    start = date(2018, 1, 1)
    tpnw = status(
        *(
            member(n, c, sig="2017-09-20", consent=(start + timedelta(days=40 * i)).isoformat())
            for i, (n, c) in enumerate(_codes(49))
        ),
        member("Zimbabwe", "ZWE", sig="2017-09-20", consent="2026-11-01"),
        as_at=at("2026-11-19", 0),
    )
    skip = frozenset({"ZMB"})
    icescr = status(
        *(member(n, c, consent="2000-01-03") for n, c in _codes(35, skip)),
        member("Zambia", "ZMB", consent="2026-11-10"),
        treaty="IV-3",
        title="International Covenant on Economic, Social and Cultural Rights",
        eif_date=ICESCR_PRINTED,
        as_at=at("2026-11-19", 0),
    )
    for value, chapter, observed in (
        (optional, "IV", STALE_OBSERVED),
        (ctbt, "XXVI", "2026-11-20"),
        (tpnw, "XXVI", "2026-11-20"),
        (icescr, "IV", "2026-11-20"),
    ):
        value = dataclasses.replace(value, chapter=chapter)
        fetched = page(value, observed, url=url(value.treaty_id))
        assert ingest_page(session_factory, fetched) is not None
    record_crawl(session_factory, "untc", {"pages": 4}, True, None, at("2026-11-20"))
