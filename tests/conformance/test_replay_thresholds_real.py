"""Replay of real histories across an entry-into-force threshold: the Doha Amendment (XXVII-7-c,
144 acceptances, 2 Oct 2020, in force 31 Dec 2020) and the Kigali Amendment (XXVII-2-f,
20 instruments, Nov 2017, in force on the fixed date 1 Jan 2019).

The histories are openclimatedata's bot commits of CSVs derived from the UNTC pages (see
`shared/fixtures/real/MANIFEST.md`, section D), rendered back into ViewDetails pages and ingested
in commit order, each observed at noon UTC of its commit date. Every expectation below is
computed from the CSVs themselves, independently of the tracker's evaluation code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.climate_history import CsvRow, HistoryFile, history, nth_date, render_file
from support.real import REAL
from support.untc_render import Row

from db.models import Event, Quarantine, Snapshot, Treaty
from db.vocabulary import RULE_EVENT_KINDS
from tracker.catalogue import rule_for
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Reio
from tracker.services.ingest import FetchedPage, IngestResult, ingest_page
from tracker.services.rule_events import evaluate_all

DOHA_DIR = REAL / "derived" / "openclimatedata_doha_XXVII-7-c_history"
KIGALI_DIR = REAL / "derived" / "openclimatedata_kigali_XXVII-2-f_history"
K = 5  # the approaching event fires when K or fewer instruments remain

needs_doha = pytest.mark.skipif(
    not DOHA_DIR.is_dir(), reason=f"real fixtures absent: {DOHA_DIR} (shared/ not beside the repo)"
)
needs_kigali = pytest.mark.skipif(
    not KIGALI_DIR.is_dir(),
    reason=f"real fixtures absent: {KIGALI_DIR} (shared/ not beside the repo)",
)

SessionFactory = sessionmaker[Session]


# ---- replay machinery ----------------------------------------------------------------------


def _url(treaty_id: str) -> str:
    return (
        "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY"
        f"&mtdsg_no={treaty_id}&chapter=27&clang=_en"
    )


def replay(
    session_factory: SessionFactory,
    treaty_id: str,
    files: Sequence[HistoryFile],
    render: Callable[[HistoryFile], bytes],
) -> list[tuple[HistoryFile, IngestResult]]:
    results = []
    for f in files:
        page = FetchedPage(
            source="untc",
            url=_url(treaty_id),
            body=render(f),
            fetched_at=f.observed_at,
            observed_at=f.observed_at,
            expected_treaty=treaty_id,
        )
        results.append((f, ingest_page(session_factory, page, approaching=K)))
    return results


def _treaty(session: Session, treaty_id: str) -> Treaty:
    return session.scalars(select(Treaty).where(Treaty.external_id == treaty_id)).one()


def all_events(session_factory: SessionFactory, treaty_id: str) -> list[dict[str, Any]]:
    """Every event of the treaty as plain values (ordered by id)."""
    with session_factory() as session:
        treaty = _treaty(session, treaty_id)
        rows = session.scalars(select(Event).where(Event.treaty_id == treaty.id).order_by(Event.id))
        return [
            {
                "id": e.id,
                "kind": e.kind,
                "snapshot_id": e.snapshot_id,
                "participant": e.participant_name,
                "legal_date": e.legal_date,
                "observed_at": e.observed_at,
                "details": e.details,
                "state": e.state,
            }
            for e in rows
        ]


def rule_events(session_factory: SessionFactory, treaty_id: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RULE_EVENT_KINDS}
    for e in all_events(session_factory, treaty_id):
        if e["kind"] in found:
            found[e["kind"]].append(e)
    return found


def snapshot_count(session_factory: SessionFactory, treaty_id: str) -> int:
    with session_factory() as session:
        treaty = _treaty(session, treaty_id)
        query = select(func.count(Snapshot.id)).where(Snapshot.treaty_id == treaty.id)
        return session.scalar(query) or 0


def latest_status(session_factory: SessionFactory, treaty_id: str) -> TreatyStatus:
    with session_factory() as session:
        treaty = _treaty(session, treaty_id)
        snap = session.scalars(
            select(Snapshot)
            .where(Snapshot.treaty_id == treaty.id)
            .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
            .limit(1)
        ).one()
        return TreatyStatus.from_dict(snap.data)


def file_of(results: list[tuple[HistoryFile, IngestResult]], snapshot_id: int | None) -> str:
    """The history file whose ingest created `snapshot_id` (accepted pages only)."""
    names = [f.name for f, r in results if r.outcome == "accepted" and r.snapshot_id == snapshot_id]
    assert len(names) == 1, (snapshot_id, names)
    return names[0]


def first_file(
    files: Sequence[HistoryFile], qualifying: Callable[[HistoryFile], int], lo: int, hi: int
) -> str:
    """The first file whose qualifying count lies in [lo, hi]."""
    return next(f.name for f in files if lo <= qualifying(f) <= hi)


def daily_job(session_factory: SessionFactory, now: datetime) -> dict[str, list[str]]:
    with session_factory.begin() as session:
        detections = evaluate_all(session, now=now, approaching=K)
        return {d.treaty: d.created for d in detections}


def assert_rerun_changes_nothing(
    session_factory: SessionFactory,
    treaty_id: str,
    files: Sequence[HistoryFile],
    render: Callable[[HistoryFile], bytes],
) -> None:
    """The same sequence again: the newest page is unchanged, every other one out of order."""
    before_events = all_events(session_factory, treaty_id)
    before_snapshots = snapshot_count(session_factory, treaty_id)
    again = replay(session_factory, treaty_id, files, render)
    outcomes = [r.outcome for _, r in again]
    assert outcomes[-1] == "unchanged"
    assert set(outcomes[:-1]) == {"rejected"}, Counter(outcomes)
    assert all("older than the latest snapshot" in (r.reason or "") for _, r in again[:-1])
    assert snapshot_count(session_factory, treaty_id) == before_snapshots
    after = all_events(session_factory, treaty_id)
    assert [(e["id"], e["kind"]) for e in after] == [(e["id"], e["kind"]) for e in before_events]
    with session_factory() as session:
        out_of_order = session.scalar(
            select(func.count(Quarantine.id)).where(
                Quarantine.kind == "out_of_order", Quarantine.expected_treaty == treaty_id
            )
        )
    assert out_of_order == len(files) - 1


def _day(value: datetime) -> date:
    return value.astimezone(UTC).date()


# ---- Doha Amendment (XXVII-7-c) -------------------------------------------------------------

DOHA = "XXVII-7-c"
DOHA_THRESHOLD_FILE = "doha_2020-10-03_d4e6409.csv"


def is_eu(row: CsvRow) -> bool:
    return row.name == "European Union"


def doha_render(f: HistoryFile) -> bytes:
    return render_file(
        f,
        treaty_id=DOHA,
        title="Doha Amendment to the Kyoto Protocol",
        consent_header="Acceptance(A)",
        row=lambda r: Row(r.name, consent=r.date, letter="A", footnotes=r.footnotes),
    )


def doha_instruments(f: HistoryFile, *, eu_counts: bool) -> list[CsvRow]:
    return [r for r in f.rows if eu_counts or not is_eu(r)]


def doha_files() -> list[HistoryFile]:
    files = history(DOHA_DIR)
    assert len(files) == 56 and files[0].name == "doha_2016-11-29_4a4c33c.csv"
    return files


@needs_doha
def test_doha_data_puts_144th_instrument_on_2_october_only_without_the_eu() -> None:
    """What the CSV of 3 Oct 2020 says about the 144th acceptance, with and without the EU."""
    f = next(f for f in doha_files() if f.name == DOHA_THRESHOLD_FILE)
    eu = [r for r in f.rows if is_eu(r)]
    assert [(r.code, r.date) for r in eu] == [("EUU", date(2017, 12, 21))]
    assert len(f.rows) == 145
    with_eu = sorted(doha_instruments(f, eu_counts=True), key=lambda r: r.date)
    without_eu = sorted(doha_instruments(f, eu_counts=False), key=lambda r: r.date)
    assert (with_eu[143].name, with_eu[143].date) == ("Jamaica", date(2020, 10, 1))
    assert (without_eu[143].name, without_eu[143].date) == ("Nigeria", date(2020, 10, 2))
    # 2 Oct 2020 + 90 days is the printed entry into force (31 Dec 2020); 1 Oct would give 30 Dec.
    assert without_eu[143].date + timedelta(days=90) == date(2020, 12, 31)
    assert with_eu[143].date + timedelta(days=90) == date(2020, 12, 30)


@pytest.mark.slow  # the whole 56-version Doha history ingested: over 10 s
@needs_doha
@pytest.mark.db
def test_doha_replay_rule_events(session_factory: SessionFactory) -> None:
    rule = rule_for("untc", DOHA, None)
    assert rule is not None and rule.threshold == 144 and "acceptance" in rule.counts
    eu_counts = rule.reio is Reio.AS_STATE  # what the catalogue says (as_state today)

    files = doha_files()
    results = replay(session_factory, DOHA, files, doha_render)

    # Every page is accepted or unchanged, bot corrections (rows vanishing, coming back) included.
    outcomes = Counter(r.outcome for _, r in results)
    assert set(outcomes) <= {"accepted", "unchanged"}, outcomes
    assert outcomes["unchanged"] == 1  # doha_2020-07-24 repeats doha_2020-07-22

    def qualifying(f: HistoryFile) -> int:
        return len(doha_instruments(f, eu_counts=eu_counts))

    # The snapshot from which each rule event must come, computed from the CSVs.
    threshold_file = first_file(files, qualifying, 144, 10_000)
    assert threshold_file == DOHA_THRESHOLD_FILE
    approaching_file = first_file(files, qualifying, 144 - K, 143)
    f_threshold = next(f for f in files if f.name == threshold_file)
    met = nth_date((r.date for r in doha_instruments(f_threshold, eu_counts=eu_counts)), 144)
    assert met is not None
    eif = met + timedelta(days=90)

    events = rule_events(session_factory, DOHA)
    assert len(events["threshold_crossed"]) == 1
    assert len(events["approaching"]) == 1
    assert events["entered_into_force"] == []  # the history ends on 5 Dec 2020

    crossed = events["threshold_crossed"][0]
    assert file_of(results, crossed["snapshot_id"]) == threshold_file
    assert crossed["legal_date"] == met
    assert _day(crossed["observed_at"]) == date(2020, 10, 3)
    details = crossed["details"]
    assert details["threshold_met_on"] == met.isoformat()
    assert details["entry_into_force"]["computed"] == eif.isoformat()
    assert details["entry_into_force"]["published"] is None  # the pages print "Not yet in force"
    assert details["baseline"] is False
    assert details["lag_days"] == (date(2020, 10, 3) - met).days
    counted = doha_instruments(f_threshold, eu_counts=eu_counts)
    deciding = sorted(r.name for r in counted if r.date == met)
    assert sorted(d["participant"] for d in details["deciding_deposits"]) == deciding

    approaching = events["approaching"][0]
    assert file_of(results, approaching["snapshot_id"]) == approaching_file
    f_approaching = next(f for f in files if f.name == approaching_file)
    assert approaching["details"]["remaining"] == 144 - qualifying(f_approaching)
    assert approaching["legal_date"] == max(r.date for r in f_approaching.rows)

    # The first snapshot is a baseline: no event of any kind comes from it.
    first = results[0][1]
    assert first.outcome == "accepted"
    evs = all_events(session_factory, DOHA)
    assert [e for e in evs if e["snapshot_id"] == first.snapshot_id] == []
    assert any(e["kind"] == "consent" for e in evs)

    # The United Kingdom vanishes in doha_2017-11-17_f39d9fc and is back on 2017-11-22: the
    # disappearance is retracted and the reappearance is no second consent.
    uk = [e for e in evs if (e["details"] or {}).get("participant_key") == "GBR"]
    gone = [e for e in uk if e["kind"] == "participant_disappeared"]
    assert gone and file_of(results, gone[0]["snapshot_id"]) == "doha_2017-11-17_f39d9fc.csv"
    assert gone[0]["state"] == "retracted"
    assert [e["kind"] for e in uk].count("consent") == 1

    # Entered into force: the daily job after 31 Dec 2020, exactly once.
    created = daily_job(session_factory, datetime(2021, 1, 1, 0, 5, tzinfo=UTC))
    assert created[DOHA] == ["entered_into_force"]
    events = rule_events(session_factory, DOHA)
    assert len(events["entered_into_force"]) == 1
    in_force = events["entered_into_force"][0]
    assert in_force["legal_date"] == eif
    assert in_force["details"]["entry_into_force"]["computed"] == eif.isoformat()
    assert file_of(results, in_force["snapshot_id"]) == files[-1].name  # the latest snapshot
    assert daily_job(session_factory, datetime(2021, 1, 1, 0, 5, tzinfo=UTC))[DOHA] == []
    assert daily_job(session_factory, datetime(2021, 6, 1, tzinfo=UTC))[DOHA] == []

    # The same sequence again: nothing new.
    assert_rerun_changes_nothing(session_factory, DOHA, files, doha_render)
    assert daily_job(session_factory, datetime(2021, 1, 2, tzinfo=UTC))[DOHA] == []


@pytest.mark.slow  # the Doha history ingested: over 2 s
@needs_doha
@pytest.mark.db
def test_doha_threshold_and_entry_into_force_match_the_depositary(
    session_factory: SessionFactory,
) -> None:
    files = [f for f in doha_files() if f.day >= date(2020, 5, 29)]  # 138 rows, 137 without the EU
    results = replay(session_factory, DOHA, files, doha_render)
    events = rule_events(session_factory, DOHA)
    crossed = events["threshold_crossed"]
    assert [file_of(results, e["snapshot_id"]) for e in crossed] == [DOHA_THRESHOLD_FILE]
    assert crossed[0]["legal_date"] == date(2020, 10, 2)
    assert crossed[0]["details"]["entry_into_force"]["computed"] == "2020-12-31"
    assert crossed[0]["participant"] == "Nigeria"
    # 139 instruments without the EU first in doha_2020-07-22 (doha_2020-06-27 with it).
    assert [file_of(results, e["snapshot_id"]) for e in events["approaching"]] == [
        "doha_2020-07-22_6d69c7e.csv"
    ]
    assert daily_job(session_factory, datetime(2021, 1, 1, 0, 5, tzinfo=UTC))[DOHA] == [
        "entered_into_force"
    ]
    in_force = rule_events(session_factory, DOHA)["entered_into_force"]
    assert [e["legal_date"] for e in in_force] == [date(2020, 12, 31)]


# ---- Kigali Amendment (XXVII-2-f) -----------------------------------------------------------

KIGALI = "XXVII-2-f"
PROVISIONAL = "Provisional application under Article V"
KIGALI_LETTERS = {"Ratification": "", "Acceptance": "A", "Approval": "AA"}


def kigali_kinds(files: Sequence[HistoryFile]) -> dict[str, str]:
    """Participation type by code and by name, from the files that print it (2022 on)."""
    kinds: dict[str, str] = {}
    for f in files:
        for r in f.rows:
            if r.participation and r.participation != PROVISIONAL:
                if r.code:
                    kinds[r.code] = r.participation
                kinds[r.name] = r.participation
    return kinds


def kigali_renderer(kinds: dict[str, str]) -> Callable[[HistoryFile], bytes]:
    """Render a Kigali file: the instrument's letter from its participation type (the one the
    later files print, for the earlier ones), provisional application in its own column."""

    def row(r: CsvRow) -> Row:
        if r.participation == PROVISIONAL:
            return Row(r.name, provisional=r.date, footnotes=r.footnotes)
        kind = r.participation or kinds.get(r.code) or kinds.get(r.name) or "Ratification"
        return Row(r.name, consent=r.date, letter=KIGALI_LETTERS[kind], footnotes=r.footnotes)

    def render(f: HistoryFile) -> bytes:
        typed = "Participation Type" in f.header
        return render_file(
            f,
            treaty_id=KIGALI,
            title="Amendment to the Montreal Protocol on Substances that Deplete the Ozone Layer",
            consent_header="Acceptance(A), Ratification, Approval(AA)",
            row=row,
            provisional_header="Provisional application under article V(n)" if typed else None,
        )

    return render


def kigali_instruments(f: HistoryFile) -> list[CsvRow]:
    """Instruments that count under the catalogue's rule: ratification, acceptance or approval,
    the EU's not counted (reio not_additional), provisional application not an instrument."""
    return [r for r in f.rows if not is_eu(r) and r.participation != PROVISIONAL]


@needs_kigali
@pytest.mark.db
@pytest.mark.slow  # 2.4-2.9 s on SQLite, 3.8-5.0 s on PostgreSQL: the whole 107-file history
def test_kigali_replay_rule_events(session_factory: SessionFactory) -> None:
    rule = rule_for("untc", KIGALI, None)
    assert rule is not None and rule.threshold == 20
    assert rule.fixed_date == date(2019, 1, 1) and rule.reio is Reio.NOT_ADDITIONAL
    assert set(rule.counts) == {"ratification", "acceptance", "approval"}

    every = history(KIGALI_DIR)
    assert len(every) == 107
    headers = [f.header for f in every]
    assert ("Code", "Name", "Acceptance") in headers and ("Code", "Name", "Date") in headers
    assert ("Code", "Name", "Date", "Participation Type") in headers
    render = kigali_renderer(kigali_kinds(every))
    files = every  # the whole history: 2017-09-19 to 2023-10-08

    results = replay(session_factory, KIGALI, files, render)
    outcomes = Counter(r.outcome for _, r in results)
    assert set(outcomes) <= {"accepted", "unchanged"}, outcomes

    def qualifying(f: HistoryFile) -> int:
        return len(kigali_instruments(f))

    threshold_file = first_file(files, qualifying, 20, 10_000)
    assert threshold_file == "kigali_2017-11-18_538ba25.csv"
    approaching_file = first_file(files, qualifying, 20 - K, 19)
    assert approaching_file == "kigali_2017-11-17_f46dd67.csv"
    f_threshold = next(f for f in files if f.name == threshold_file)
    met = nth_date((r.date for r in kigali_instruments(f_threshold)), 20)
    assert met is not None and (met.year, met.month) == (2017, 11)
    # The EU is not among the early instruments: first listed in Sep 2018, deposited 27 Sep 2018.
    first_eu = next(f for f in files if any(is_eu(r) for r in f.rows))
    assert first_eu.day > f_threshold.day
    assert all(r.date > met for f in files for r in f.rows if is_eu(r))
    # The provisional application (Spain, 20 Jan 2022) is no instrument.
    provisional = {
        (r.name, r.date) for f in files for r in f.rows if r.participation == PROVISIONAL
    }
    assert provisional == {("Spain", date(2022, 1, 20))}
    eif_file = next(
        f.name for f, r in results if r.outcome == "accepted" and f.day >= date(2019, 1, 1)
    )

    events = rule_events(session_factory, KIGALI)
    assert len(events["threshold_crossed"]) == 1
    assert len(events["approaching"]) == 1
    assert len(events["entered_into_force"]) == 1

    crossed = events["threshold_crossed"][0]
    assert file_of(results, crossed["snapshot_id"]) == threshold_file
    assert crossed["legal_date"] == met
    assert crossed["details"]["threshold_met_on"] == met.isoformat()
    assert crossed["details"]["entry_into_force"]["computed"] == "2019-01-01"
    assert crossed["details"]["baseline"] is False
    deciding = sorted(r.name for r in kigali_instruments(f_threshold) if r.date == met)
    assert sorted(d["participant"] for d in crossed["details"]["deciding_deposits"]) == deciding

    approaching = events["approaching"][0]
    assert file_of(results, approaching["snapshot_id"]) == approaching_file
    assert approaching["details"]["remaining"] == 1  # 19 instruments

    in_force = events["entered_into_force"][0]
    assert in_force["legal_date"] == date(2019, 1, 1)
    assert file_of(results, in_force["snapshot_id"]) == eif_file == "kigali_2019-01-09_d37319a.csv"
    assert _day(in_force["observed_at"]) == date(2019, 1, 9)

    # The latest snapshot holds Spain's provisional application, not as a party.
    status = latest_status(session_factory, KIGALI)
    spain = next(p for p in status.participants if p.name == "Spain")
    assert spain.provisional is not None and spain.consent is None and not spain.is_party
    assert status.parties == len(files[-1].rows) - 1
    assert status.status_as_at == files[-1].observed_at

    # The daily job and the same sequence again add nothing.
    assert daily_job(session_factory, datetime(2024, 1, 1, tzinfo=UTC))[KIGALI] == []
    assert_rerun_changes_nothing(session_factory, KIGALI, files, render)
    assert daily_job(session_factory, datetime(2024, 1, 2, tzinfo=UTC))[KIGALI] == []
