"""Replay of WIPO Lex's history from a third party's monthly parses, then the real pages.

`shared/fixtures/real/derived/wipo_lex_datahub_monthly_2025/` holds every version of datahub's
`membership-to-copyright-treaties` CSV (see its MANIFEST.md): six monthly parses of 2025
(2025-04-01 to 2025-10-01, 17 treaty labels) and seven hand-edited versions of 2015-2017 (the 8
copyright treaties, other labels). tests/support/wipo_history renders each version into WIPO
Lex's Contracting Parties markup, one page per followed treaty, and tests/support/wipo_replay
ingests them through ingest_page in capture order, each observed at its commit's time; the 2025
sequence ends with the 26 real pages of 2026-02-03 (observed at noon UTC). The events must be
exactly the changes the CSVs show between versions, with their legal dates, and nothing else.

The treaties the source does not follow: `Riyadh` (the Riyadh Design Law Treaty, 2024) and
`WIPO GRATK Treaty` (2024) are not among the 26 configured ones, so their rows are not rendered:
a crawl would never fetch them. Their changes (six Riyadh signatures, three GRATK signatures and
Uganda's ratification of its GRATK signature, in place) are asserted apart, so setting them
aside hides nothing else. The in-place case on a followed treaty is in the 2015 sequence
(Argentina's Marrakesh signature gains a ratification; Chile's and Qatar's Beijing signatures
too) and in the own-fixture replay (tests/sources/wipo/test_wipo_replay.py).

Skips, with the reason, when shared/fixtures/real is absent.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from support.real import ABSENT, REAL
from support.wipo_history import Change, all_changes, in_force_only, versions
from support.wipo_replay import (
    Capture,
    Seen,
    as_changes,
    by_kind,
    delivered,
    events,
    latest,
    recorded,
    rendered,
    replay,
    subscribe_to_everything,
)

from tracker.services.read.status import treaty_status
from tracker.services.rule_events import evaluate_all

pytestmark = pytest.mark.db

DATAHUB = REAL / "derived" / "wipo_lex_datahub_monthly_2025"
PAGES = REAL / "wipo_lex_html_2026-02-03"
CAPTURED = datetime(2026, 2, 3, 12, tzinfo=UTC)

needs_datahub = pytest.mark.skipif(
    not (DATAHUB / "MANIFEST.md").is_file() or not PAGES.is_dir(),
    reason=f"{ABSENT} ({DATAHUB.name} or {PAGES.name} missing)",
)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# The 2025 versions' changes of the followed treaties, by the version that shows them first
# (MANIFEST.md, "Changes between versions"; computed again from the CSVs below).
JOINED_2025 = [
    ("843", "Kazakhstan", "consent", date(2025, 4, 14), _t("2025-05-01T00:46:59+00:00")),
    ("2", "Ethiopia", "consent", date(2025, 5, 15), _t("2025-06-01T00:55:37+00:00")),
    ("30", "Bahamas", "consent", date(2025, 6, 3), _t("2025-07-01T00:52:54+00:00")),
    ("5", "Bahamas", "consent", date(2025, 6, 3), _t("2025-07-01T00:52:54+00:00")),
    ("15", "Maldives", "consent", date(2025, 8, 22), _t("2025-10-01T00:45:55+00:00")),
]
# 2025-10-01 -> the real pages of 2026-02-03. MANIFEST.md names Angola only (it compared the
# Marrakesh page); the other 14 treaties of the CSV show two more parties: the Eurasian Patent
# Organization (PLT) and Saint Kitts and Nevis (Rome). The other 12 real pages hold exactly what
# the rendered 2025-10-01 pages held (ingested as unchanged).
JOINED_2026 = [
    ("843", "Angola", "consent", date(2025, 12, 15), CAPTURED),
    ("4", "Eurasian Patent Organization (EAPO)", "consent", date(2025, 12, 17), CAPTURED),
    ("17", "Saint Kitts and Nevis", "consent", date(2025, 11, 6), CAPTURED),
]
# The parties whose printed In Force date lay after the capture that first showed them, and
# what the curated rule computes for them (None: the treaty's entry into force is not modelled).
FUTURE = [
    ("WIPO-15", "Maldives", date(2025, 11, 22), _t("2025-10-01T00:45:55+00:00"), None),
    ("WIPO-843", "Angola", date(2026, 3, 15), CAPTURED, date(2026, 3, 15)),
    (
        "WIPO-4",
        "Eurasian Patent Organization (EAPO)",
        date(2026, 3, 17),
        CAPTURED,
        date(2026, 3, 17),
    ),
    ("WIPO-17", "Saint Kitts and Nevis", date(2026, 2, 6), CAPTURED, date(2026, 2, 6)),
]


def _real_capture() -> Capture:
    entries = [
        e
        for e in json.loads((REAL / "index.json").read_text("utf-8"))
        if e["kind"] == "wipo_lex_html"
    ]
    pages = []
    for e in sorted(entries, key=lambda e: e["path"]):
        treaty_id = re.search(r"treaty_id=(\d+)", e["original_url"])
        assert treaty_id is not None, e
        pages.append((treaty_id.group(1), (REAL.parent.parent / e["path"]).read_bytes()))
    return recorded("wipo_lex_html_2026-02-03", CAPTURED, pages)


def _assert_rule_events_are_history(seen: list[Seen], first_seen: dict[str, datetime]) -> None:
    """Rule events only at a treaty's first observation (the baseline: what its first page
    already showed), dated on or before it, and never sent."""
    for e in seen:
        if e.is_rule_event:
            assert e.baseline, e
            assert e.observed_at == first_seen[e.treaty], e
            assert e.legal_date is not None and e.legal_date <= e.observed_at.date(), e


def _daily_job_creates_nothing(session_factory, *days: datetime) -> None:
    for now in days:
        with session_factory.begin() as session:
            created = {d.treaty: d.created for d in evaluate_all(session, now=now) if d.created}
        assert created == {}, now


@needs_datahub
def test_2025_monthly_versions_then_the_real_pages(session_factory) -> None:
    sequence = versions(DATAHUB, "wipo_lex_")
    assert [v.observed_at.date().isoformat() for v in sequence] == [
        "2025-04-01",
        "2025-05-01",
        "2025-06-01",
        "2025-07-01",
        "2025-08-01",
        "2025-10-01",
    ]
    # The CSVs' own changes: the followed ones are JOINED_2025; the rest are the two treaties
    # the source does not follow.
    found = all_changes(sequence)
    followed = [
        (c.treaty_id, c.party, c.kind, c.legal_date, v.observed_at) for v, c in found if c.followed
    ]
    assert sorted(followed) == sorted(JOINED_2025)
    assert sorted((c.label, c.party, c.kind) for _, c in found if not c.followed) == sorted(
        [
            ("Riyadh", p, "signature")
            for p in (
                "Albania",
                "Cabo Verde",
                "Iceland",
                "Indonesia",
                "Switzerland",
                "United Kingdom",
            )
        ]
        + [
            ("WIPO GRATK Treaty", p, "signature")
            for p in ("Bolivia (Plurinational State of)", "Ecuador", "Iran (Islamic Republic of)")
        ]
        + [("WIPO GRATK Treaty", "Uganda", "consent")]
    )
    assert all(in_force_only(a, b) == [] for a, b in pairwise(sequence))

    subscribe_to_everything(session_factory)
    captures = rendered(sequence)
    assert [len(c.pages) for c in captures] == [15] * 6  # 17 labels, 2 not followed
    done = replay(session_factory, captures)
    # Rule events may be due only at each treaty's first view; the daily job on the capture
    # of Maldives' accession and the day after its printed entry into force adds none.
    _daily_job_creates_nothing(
        session_factory, captures[-1].observed_at, datetime(2025, 11, 23, 6, tzinfo=UTC)
    )
    real = _real_capture()
    assert len(real.pages) == 26
    done.results += replay(session_factory, [real]).results

    assert done.pages() == 6 * 15 + 26
    # 15 baselines and 5 joins among the rendered pages; of the real ones the 11 treaties the
    # CSV lacks (baselines) and the 3 with a new party; the other 12 unchanged.
    assert done.outcomes() == {"accepted": 15 + 5 + 11 + 3, "unchanged": 6 * 15 - 20 + 12}
    assert sorted(done.accepted(real.name), key=int) == sorted(
        ["4", "17", "843", "1", "6", "7", "8", "9", "10", "11", "12", "13", "14", "21"], key=int
    )

    seen = events(session_factory)
    assert as_changes(seen) == sorted(JOINED_2025 + JOINED_2026)
    first_seen = {t: captures[0].observed_at for t, _ in captures[0].pages}
    first_seen |= {t: CAPTURED for t, _ in real.pages if t not in first_seen}
    _assert_rule_events_are_history(seen, first_seen)
    # What a subscriber to every alert kind would have been sent: the joins, nothing else.
    assert as_changes(delivered(session_factory)) == as_changes(seen)
    assert all(e.is_change for e in delivered(session_factory))

    # A future In Force date: kept as the party's published_in_force_from, the curated rule
    # computes the same, and nothing is due early (nor when the date comes: a party's entry
    # into force is not a treaty's).
    with session_factory() as session:
        for treaty, party, printed, captured, computed in FUTURE:
            assert printed > captured.date()
            (row,) = [
                p
                for p in latest(session_factory, treaty.removeprefix("WIPO-")).participants
                if p.name == party
            ]
            assert row.published_in_force_from == printed
            answer = treaty_status(session, treaty, today=captured.date())
            (shown,) = [p for p in answer["participants"] if p["name"] == party]
            assert shown["in_force_from"] == (computed.isoformat() if computed else None)
    sent = [e.id for e in delivered(session_factory)]
    _daily_job_creates_nothing(session_factory, CAPTURED, datetime(2026, 3, 18, 6, tzinfo=UTC))
    assert [e.id for e in delivered(session_factory)] == sent

    figures = {
        "versions": len(sequence) + 1,
        "pages": done.pages(),
        "outcomes": dict(sorted(done.outcomes().items())),
        "change events": by_kind(e for e in seen if e.is_change),
        "rule events (baselines, not sent)": by_kind(e for e in seen if e.is_rule_event),
        "sent": len(sent),
    }
    print(f"\nWIPO replay 2025 -> 2026-02-03: {figures}")
    assert figures == {
        "versions": 7,
        "pages": 116,
        "outcomes": {"accepted": 34, "unchanged": 82},
        "change events": {"consent": 8},
        # 15 treaties in force and modelled among the 26, and Washington (not in force, 5
        # instruments needed): each seen in force on its first page.
        "rule events (baselines, not sent)": {
            "approaching": 1,
            "entered_into_force": 15,
            "threshold_crossed": 15,
        },
        "sent": 8,
    }


@needs_datahub
def test_2015_2017_versions(session_factory) -> None:
    sequence = versions(DATAHUB, "wipo_copyright_")
    assert len(sequence) == 7
    assert [v.treaty_ids() for v in sequence] == [
        ["15", "16", "17", "18", "19", "20", "841", "843"]
    ] * 7
    found = all_changes(sequence)
    assert all(c.followed for _, c in found)
    got = [(v.name[15:25], c) for v, c in found]
    assert got == [
        ("2015-04-02", Change("Marrakesh", "Singapore", "consent", date(2015, 3, 30), True)),
        # Argentina's signature row gains its ratification in place: one consent event.
        ("2015-04-10", Change("Marrakesh", "Argentina", "consent", date(2015, 4, 1), True)),
        ("2015-07-12", Change("Beijing", "Chile", "consent", date(2015, 6, 22), True)),
        ("2015-07-12", Change("Beijing", "Qatar", "consent", date(2015, 7, 3), True)),
        # The hand-edited file of 2017 lost these three instruments (WIPO Lex lists them today):
        # an absence the tracker keeps suspicious, sent to nobody, until a second page confirms it.
        ("2017-05-18", Change("Beijing", "Chile", "action_disappeared", date(2015, 6, 22), True)),
        ("2017-05-18", Change("Beijing", "Qatar", "action_disappeared", date(2015, 7, 3), True)),
        (
            "2017-05-18",
            Change("Marrakesh", "Argentina", "action_disappeared", date(2015, 4, 1), True),
        ),
    ]
    # Mali's Berne In Force date was edited three times (1960-04-04 -> 1960-09-22 -> 1962-03-19
    # -> 1960-04-04): a printed date, not an act; new snapshots, no event.
    moved = [m for a, b in pairwise(sequence) for m in in_force_only(a, b)]
    assert [(label, party) for label, party, _, _ in moved] == [("Berne", "Mali")] * 3

    subscribe_to_everything(session_factory)
    captures = rendered(sequence)
    done = replay(session_factory, captures)
    seen = events(session_factory)
    assert as_changes(seen) == sorted(
        (c.treaty_id, c.party, c.kind, c.legal_date, v.observed_at) for v, c in found
    )
    assert {e.state for e in seen if e.kind == "action_disappeared"} == {"suspicious"}
    for party in ("Argentina", "Chile", "Qatar"):
        mine = [e for e in seen if e.participant == party]
        assert [(e.kind, e.action_kind) for e in mine] == [
            ("consent", "ratification"),
            ("action_disappeared", "ratification"),
        ]
    first_seen = {t: captures[0].observed_at for t, _ in captures[0].pages}
    _assert_rule_events_are_history(seen, first_seen)
    assert [(e.participant, e.kind) for e in delivered(session_factory)] == [
        ("Singapore", "consent"),
        ("Argentina", "consent"),
        ("Chile", "consent"),
        ("Qatar", "consent"),
    ]

    figures = {
        "versions": len(sequence),
        "pages": done.pages(),
        "outcomes": dict(sorted(done.outcomes().items())),
        "change events": by_kind(e for e in seen if e.is_change),
        "rule events (baselines, not sent)": by_kind(e for e in seen if e.is_rule_event),
        "sent": len(delivered(session_factory)),
    }
    print(f"\nWIPO replay 2015-2017: {figures}")
    assert figures == {
        "versions": 7,
        "pages": 56,
        # 8 baselines, Singapore, Argentina, Mali twice, Beijing 2015-07-12, and 2017's three
        "outcomes": {"accepted": 16, "unchanged": 40},
        "change events": {"action_disappeared": 3, "consent": 4},
        # WCT, WPPT, Rome, Phonograms, Brussels (Berne is not modelled; Marrakesh and Beijing
        # were not in force, nor within 5 instruments of it)
        "rule events (baselines, not sent)": {"entered_into_force": 5, "threshold_crossed": 5},
        "sent": 4,
    }
