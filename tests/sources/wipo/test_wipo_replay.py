"""The WIPO replay on the project's own versions (tests/fixtures/wipo/replay, see its
MANIFEST.md): three hand-made CSV versions in the third party's format, rendered into WIPO Lex
pages and ingested in date order through ingest_page, then the own pages marrakesh_few.html and
paris_few.html as the capture of 2026-02-03. The same machinery runs over the real versions in
tests/conformance/test_wipo_replay_real.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.wipo_history import (
    Change,
    all_changes,
    changes,
    in_force_only,
    read_csv,
    render,
    versions,
)
from support.wipo_replay import (
    Capture,
    by_kind,
    delivered,
    events,
    latest,
    recorded,
    rendered,
    replay,
    subscribe_to_everything,
)

from db.models import Snapshot, Treaty
from tracker.services.rule_events import evaluate_all
from tracker.sources import wipo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wipo"
OWN = FIXTURES / "replay"
CAPTURED = datetime(2026, 2, 3, 12, tzinfo=UTC)
V2 = datetime(2025, 8, 1, 0, 56, 7, tzinfo=UTC)
V3 = datetime(2025, 10, 1, 0, 45, 55, tzinfo=UTC)


def _captures() -> list[Capture]:
    final = recorded(
        "own pages of 2026-02-03",
        CAPTURED,
        [
            ("843", (FIXTURES / "marrakesh_few.html").read_bytes()),
            ("2", (FIXTURES / "paris_few.html").read_bytes()),
        ],
    )
    return [*rendered(versions(OWN, "own_")), final]


# What the versions say changed, written out (tests/fixtures/wipo/replay/MANIFEST.md).
JOINED = [
    ("2", "Burkina Faso", "consent", date(1997, 5, 9), V3),
    ("2", "Croatia", "consent", date(1992, 7, 28), V2),
    ("843", "Afghanistan", "consent", date(2018, 7, 26), V2),
    ("843", "Angola", "consent", date(2025, 12, 15), CAPTURED),
]


def test_the_versions_read_as_the_manifest_says() -> None:
    sequence = versions(OWN, "own_")
    assert [v.name for v in sequence] == [
        "own_2025-04-01.csv",
        "own_2025-08-01.csv",
        "own_2025-10-01.csv",
    ]
    assert [v.csv_rows for v in sequence] == [7, 9, 10]
    assert [v.treaty_ids() for v in sequence] == [["2", "843"]] * 3
    followed = [(v.name, c) for v, c in all_changes(sequence) if c.followed]
    assert followed == [
        (
            "own_2025-08-01.csv",
            Change("Marrakesh", "Afghanistan", "consent", date(2018, 7, 26), True),
        ),
        ("own_2025-08-01.csv", Change("Paris", "Croatia", "consent", date(1992, 7, 28), True)),
        ("own_2025-10-01.csv", Change("Paris", "Burkina Faso", "consent", date(1997, 5, 9), True)),
    ]
    # The treaties the source does not follow: their changes are told apart, never rendered.
    assert [c for _, c in all_changes(sequence) if not c.followed] == [
        Change("Riyadh", "Albania", "signature", date(2025, 7, 10), False),
        Change("WIPO GRATK Treaty", "Uganda", "consent", date(2025, 7, 9), False),
    ]
    # The European Union's In Force date alone moved: no act, so not a change.
    assert changes(sequence[1], sequence[2]) == [followed[2][1]]
    assert in_force_only(sequence[1], sequence[2]) == [
        ("Marrakesh", "European Union (EU)", date(2019, 1, 1), date(2019, 1, 2))
    ]


def test_hand_edited_spellings_read_as_the_same_facts() -> None:
    quirky = read_csv(
        "Contracting Party,Treaty,Signature Date,Instrument Type,Instrument Date,"
        "Entry Into Force Date\n"
        'India,Marrakesh,2014-04-30,"Ratification: June 24, 2014","Ratification: June 24, 2014", \n'
        "Croatia,Berne,,Declaration / Notification of Succession,1992-07-28,1991-10-08\n"
        "Austria,WCT,1997-12-12, , , \n"
    )
    clean = read_csv(
        "Contracting Party,Treaty,Signature Date,Instrument Type,Instrument Date,"
        "Entry Into Force Date\n"
        "India,Marrakesh,2014-04-30,Ratification,2014-06-24,\n"
        "Croatia,Berne,,Declaration/Notification of Succession,1992-07-28,1991-10-08\n"
        "Austria,WCT,1997-12-12,,,\n"
    )
    assert quirky == clean
    assert quirky["Marrakesh"]["India"].instrument == ("Ratification", date(2014, 6, 24))
    with pytest.raises(AssertionError, match="not mapped"):
        read_csv(
            "Contracting Party,Treaty,Signature Date,Instrument Type,Instrument Date,"
            "Entry Into Force Date\nIndia,Hague,,,,\n"
        )


def test_a_rendered_page_parses_back_to_its_rows() -> None:
    """The rendering is the real markup: the tracker's own parser reads each row back."""
    v3 = versions(OWN, "own_")[2]
    for treaty_id in v3.treaty_ids():
        body = render(v3, treaty_id)
        status = wipo.parse(body, url="https://www.wipo.int/x", expected_treaty=treaty_id)
        rows = v3.parties(treaty_id)
        assert sorted(p.name for p in status.participants) == sorted(rows)
        for p in status.participants:
            row = rows[p.name]
            assert p.published_in_force_from == row.in_force
            signed = [a.date for a in p.actions if a.column.value == "signature"]
            consent = [a.date for a in p.actions if a.column.value == "consent"]
            assert signed == ([row.signed] if row.signed else [])
            assert consent == ([row.instrument[1]] if row.instrument else [])
    # Paris prints Total Members 4 (Burkina Faso's accession has no In Force date).
    paris = wipo.parse(render(v3, "2"), url="https://www.wipo.int/x", expected_treaty="2")
    assert paris.published_parties == 4


@pytest.mark.db
def test_the_events_are_exactly_the_parties_that_joined(session_factory) -> None:
    subscribe_to_everything(session_factory)
    captures = _captures()
    done = replay(session_factory, captures)

    # 4 captures of 2 treaties; paris_few.html holds what the last version held: unchanged.
    assert done.pages() == 8
    assert done.outcomes() == {"accepted": 7, "unchanged": 1}
    assert done.accepted("own pages of 2026-02-03") == ["843"]
    seen = events(session_factory)
    got = sorted((e.treaty, e.participant, e.kind, e.legal_date, e.observed_at) for e in seen)
    assert got == JOINED
    assert by_kind(seen) == {"consent": 4}
    # Nothing from the first version (the baseline), no rule event, every event settled.
    assert not [e for e in seen if e.observed_at == captures[0].observed_at]
    assert {e.state for e in seen} == {"final"}
    # And exactly these would have been sent.
    assert [e.id for e in delivered(session_factory)] == [e.id for e in seen]
    # Replaying the same captures again adds nothing: the last capture's pages are unchanged,
    # older ones are out of order (or the same content).
    again = replay(session_factory, captures)
    assert set(again.outcomes()) <= {"rejected", "unchanged"}
    assert [r.outcome for c, _, r in again.results if c is captures[-1]] == ["unchanged"] * 2
    assert events(session_factory) == seen


@pytest.mark.db
def test_a_signature_row_that_gains_a_ratification_is_one_consent_event(session_factory) -> None:
    replay(session_factory, _captures())
    afghanistan = [e for e in events(session_factory) if e.participant == "Afghanistan"]
    assert [(e.kind, e.action_kind, e.legal_date, e.observed_at) for e in afghanistan] == [
        ("consent", "ratification", date(2018, 7, 26), V2)
    ]
    # The signature it already had is kept, with its date, beside the new instrument.
    status = latest(session_factory, "843")
    (row,) = [p for p in status.participants if p.name == "Afghanistan"]
    assert [(a.column.value, a.kind, a.date) for a in row.actions] == [
        ("signature", "signature", date(2013, 6, 28)),
        ("consent", "ratification", date(2018, 7, 26)),
    ]


@pytest.mark.db
def test_formatting_and_in_force_dates_alone_make_no_event(session_factory) -> None:
    replay(session_factory, _captures())
    assert not [e for e in events(session_factory) if e.participant == "European Union (EU)"]
    with session_factory() as session:
        snapshots = session.scalar(
            select(func.count(Snapshot.id))
            .join(Treaty, Snapshot.treaty_id == Treaty.id)
            .where(Treaty.external_id == "843")
        )
    # Marrakesh: the baseline, Afghanistan's ratification, the EU's In Force date moved, Angola
    # (with the EU's date back): four snapshots, the third without an event.
    assert snapshots == 4


@pytest.mark.db
def test_a_future_in_force_date_is_kept_and_alerts_nothing_early(session_factory) -> None:
    subscribe_to_everything(session_factory)
    replay(session_factory, _captures())
    (angola,) = [p for p in latest(session_factory, "843").participants if p.name == "Angola"]
    assert angola.published_in_force_from == date(2026, 3, 15)  # after the capture, kept
    # The daily job on the capture day, and the day after Angola's entry into force: no rule
    # event (the party's own date is no treaty event), nothing more to send.
    before = [e.id for e in delivered(session_factory)]
    for now in (CAPTURED, datetime(2026, 3, 16, 6, tzinfo=UTC)):
        with session_factory.begin() as session:
            assert all(not d.created for d in evaluate_all(session, now=now))
    assert [e.id for e in delivered(session_factory)] == before
    assert [(e.kind, e.participant) for e in events(session_factory) if e.treaty == "843"] == [
        ("consent", "Afghanistan"),
        ("consent", "Angola"),
    ]
