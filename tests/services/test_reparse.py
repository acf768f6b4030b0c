"""Re-derivation (tracker.services.reparse, `tracker reparse`): every kept page parsed again
into a new history, compared with the current one; switched to only when asked."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import own_pages

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.models import Delivery, Event, Snapshot, Subscription
from tests.golden import scenario
from tracker import sources
from tracker.services import ingest
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.reparse import KeptPage, compare, kept_pages, rederive

pytestmark = [pytest.mark.db]


def _empty(tmp_path: Path, name: str = "new"):
    url = f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    upgrade(url)
    return make_session_factory(make_engine(url))


def test_today_s_parser_on_the_kept_pages_gives_the_same_history(session_factory, tmp_path):
    scenario.run(session_factory)
    with session_factory() as session:
        kept = kept_pages(session)
    new = _empty(tmp_path)
    replayed: list[KeptPage] = []
    done = rederive(session_factory, new, on_page=lambda page, _: replayed.append(page))
    # every kept page, in the order observed: snapshots' pages and rejected pages (their bodies
    # are read 32 at a time: 73 pages cross two such reads)
    assert done.pages == 73 and done.outcomes == {"accepted": 70, "quarantined": 3}
    assert replayed == kept
    compared, differ = compare(session_factory, new)
    assert compared == 34 and differ == []
    with new() as session:  # no subscription in the new history: nothing would be sent
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(Event)) > 100


def _dropping(name: str, treaty: str):
    """A parser that loses one participant of one treaty's page (a regression)."""
    real = sources.parse

    def parse(slug, body, **kw):
        import dataclasses

        status = real(slug, body, **kw)
        if status.treaty_id != treaty:
            return status
        kept = tuple(p for p in status.participants if p.name != name)
        return dataclasses.replace(status, participants=kept)

    return parse


def test_a_parser_that_changed_shows_which_treaty_changed_and_how(
    session_factory, tmp_path, monkeypatch
):
    when = datetime(2026, 2, 3, 12, tzinfo=UTC)
    tpnw, other = (
        FetchedPage("untc", own_pages.url_of(t), own_pages.page_of(t), when, expected_treaty=t)
        for t in ("XXVI-9", "XXVI-4")
    )
    for page in (tpnw, other):
        assert ingest_page(session_factory, page).outcome == "accepted"
    monkeypatch.setattr(ingest.sources, "parse", _dropping(scenario.DROPPED, "XXVI-9"))
    new = _empty(tmp_path)
    rederive(session_factory, new)
    compared, differ = compare(session_factory, new)
    assert compared == 2
    assert [d.treaty for d in differ] == ["XXVI-9"]  # the other is as it was
    parts = differ[0].parts
    assert parts["snapshots"] == (1, 1) and parts["actions"][0] >= 1 and parts["actions"][1] == 0
    assert any("AUT" in e for e in differ[0].examples), differ[0].examples


def test_a_page_the_old_parser_rejected_is_accepted_now(session_factory, tmp_path, monkeypatch):
    body = own_pages.tpnw_page()
    when = datetime(2026, 2, 3, 12, tzinfo=UTC)
    page = FetchedPage("untc", own_pages.url_of("XXVI-9"), body, when, expected_treaty="XXVI-9")

    def broken(slug, body, **kw):
        raise sources.PageRejected("a parser bug")

    with monkeypatch.context() as m:
        m.setattr(ingest.sources, "parse", broken)
        assert ingest_page(session_factory, page).outcome == "quarantined"
    with session_factory() as session:
        kept = kept_pages(session)
    assert [(k.kept_as, k.expected_treaty) for k in kept] == [("quarantined", "XXVI-9")]
    new = _empty(tmp_path)
    done = rederive(session_factory, new)
    assert done.outcomes == {"accepted": 1}
    _, differ = compare(session_factory, new)
    assert [(d.treaty, d.parts["snapshots"]) for d in differ] == [("XXVI-9", (0, 1))]


def test_a_treaty_filter_replays_only_its_pages(session_factory, tmp_path):
    scenario.run(session_factory)
    new = _empty(tmp_path)
    done = rederive(session_factory, new, source="untc", treaty="XVIII-16")
    assert done.pages == 4 and done.outcomes == {"accepted": 4}
    compared, differ = compare(session_factory, new, "untc", "XVIII-16")
    assert (compared, differ) == (1, [])


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TRACKER_DATA_DIR": str(data), "TRACKER_LOG_LEVEL": "ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", "reparse", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _history_in(tmp_path: Path, pages: list[FetchedPage]):
    """A data folder whose tracker database holds `pages` ingested; (folder, its sessions)."""
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'tracker.sqlite3'}"
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    for page in pages:
        ingest_page(factory, page)
    return data, factory


def test_switch_makes_the_new_history_current_and_keeps_the_old(tmp_path):
    data, factory = _history_in(tmp_path, [p for p in scenario.pages() if p.source == "wipo"])
    with factory.begin() as session:
        session.add(Subscription(channel="webhook", target="http://127.0.0.1:9/x",
                                 kinds=[], state="active", secret="s"))  # fmt: skip
    # alerts still to be sent: the switch is refused, nothing moves
    with factory.begin() as session:
        session.add(Delivery(event_id=session.scalar(select(Event.id).limit(1)),
                             subscription_id=1, idempotency_key="k", due_at=datetime.now(UTC)))  # fmt: skip
    refused = _cli(data, "--switch")
    assert refused.returncode == 2 and "still to be sent" in refused.stderr
    with factory.begin() as session:
        session.query(Delivery).delete()
    factory.kw["bind"].dispose()
    done = _cli(data, "--switch", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["switched"] is True and answer["differ"] == []
    kept = Path(answer["previous_history"])
    assert kept.exists() and kept.name.startswith("tracker.sqlite3.before-reparse-")
    current = make_session_factory(make_engine(f"sqlite:///{data / 'tracker.sqlite3'}"))
    with current() as session:
        assert (
            session.scalar(select(func.count()).select_from(Snapshot))
            == answer["outcomes"]["accepted"]
        )
        assert [s.target for s in session.scalars(select(Subscription))] == ["http://127.0.0.1:9/x"]
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_switch_is_refused_for_a_part_of_the_history(tmp_path):
    refused = _cli(tmp_path, "--switch", "--treaty", "XXVI-9")
    assert refused.returncode == 2 and "whole history" in refused.stderr


def test_the_operators_confirmations_go_with_their_treaty(session_factory, tmp_path):
    from datetime import date

    from db.models import ConditionConfirmation, Treaty

    when = datetime(2026, 2, 3, 12, tzinfo=UTC)
    page = FetchedPage(
        "untc", own_pages.url_of("XXVI-9"), own_pages.tpnw_page(), when, expected_treaty="XXVI-9"
    )
    assert ingest_page(session_factory, page).outcome == "accepted"
    with session_factory.begin() as session:
        treaty_id = session.scalars(select(Treaty.id)).one()
        session.add(ConditionConfirmation(
            treaty_id=treaty_id, key="k", met_on=date(2020, 1, 1), note="n", confirmed_at=when
        ))  # fmt: skip
    new = _empty(tmp_path)
    done = rederive(session_factory, new)
    assert done.confirmations == 1 and done.outcomes == {"accepted": 1}
    with new() as session:
        row = session.execute(
            select(Treaty.external_id, ConditionConfirmation.key, ConditionConfirmation.met_on,
                   ConditionConfirmation.note, ConditionConfirmation.confirmed_at)
            .join(Treaty, ConditionConfirmation.treaty_id == Treaty.id)
        ).one()  # fmt: skip
    assert tuple(row) == ("XXVI-9", "k", date(2020, 1, 1), "n", when)
    assert compare(session_factory, new) == (1, [])


def _synchronous(factory) -> int:
    with factory.kw["bind"].connect() as conn:
        return conn.exec_driver_sql("PRAGMA synchronous").scalar_one()


def test_the_new_history_is_a_scratch_file_synced_to_disk_once_complete(tmp_path):
    from tracker.services.history_files import complete, open_empty

    current = _empty(tmp_path, "current")
    new = open_empty(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert (_synchronous(current), _synchronous(new)) == (1, 0)  # NORMAL; OFF for the scratch
    ingest_page(new, next(iter(scenario.pages())))
    wal = tmp_path / "new.sqlite3-wal"
    assert wal.stat().st_size > 0
    complete(new)
    assert wal.stat().st_size == 0  # checkpointed into the file, with a full sync
    with new() as session:
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 1


# `tracker reparse --switch` that kills itself (SIGKILL) as it replays its third page.
_KILLED_REPARSE = """
import os, signal, sys
from tracker.cli.commands import main
from tracker.services import reparse
real, seen = reparse.ingest_page, []
def ingest_page(*args, **kwargs):
    seen.append(1)
    if len(seen) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
reparse.ingest_page = ingest_page
sys.exit(main(["reparse", "--switch"]))
"""


def test_a_killed_reparse_switches_nothing_and_is_simply_run_again(tmp_path):
    import hashlib
    import os
    import sqlite3

    data, factory = _history_in(tmp_path, list(scenario.pages())[:20])
    with factory() as session:
        kept = kept_pages(session)
    assert len(kept) > 3 and {page.kept_as for page in kept} == {"snapshot"}
    factory.kw["bind"].dispose()
    before = hashlib.sha256((data / "tracker.sqlite3").read_bytes()).hexdigest()
    env = {"PATH": "/usr/bin:/bin", "TRACKER_DATA_DIR": str(data), "TRACKER_LOG_LEVEL": "ERROR"}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_REPARSE],
        env=env, capture_output=True, text=True, timeout=300, cwd=os.getcwd(),
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    # nothing was switched: the current history is the same file, no previous one was kept
    assert hashlib.sha256((data / "tracker.sqlite3").read_bytes()).hexdigest() == before
    assert not list(data.glob("*before-reparse*"))
    (partial,) = data.glob("reparse-*.sqlite3")  # half-built, left as it was
    with sqlite3.connect(partial) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 2
    # run again: into a new file of its own, complete, then switched to
    done = _cli(data, "--switch", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["switched"] and answer["differ"] == [] and answer["pages"] == len(kept)
    assert Path(answer["new_history"].removeprefix("sqlite:///")) != partial.resolve()


def test_a_run_in_the_same_second_as_a_killed_one_gets_a_new_file_of_its_own(tmp_path):
    """The default file is named by the second a run starts: the killed run's file is left as
    it was, and the next run's is another (never refused, never the other's); so is the
    previous history a switch keeps."""
    from tracker.cli.reparse import _new_history
    from tracker.settings import Settings

    settings = Settings(data_dir=tmp_path)
    stamp = "20261203T091913Z"
    left = tmp_path / f"reparse-{stamp}.sqlite3"
    left.write_bytes(b"half-built")
    (tmp_path / f"reparse-{stamp}-2.sqlite3").write_bytes(b"another")
    into, new = _new_history(settings, None, stamp)
    new.kw["bind"].dispose()
    assert into == f"sqlite:///{(tmp_path / f'reparse-{stamp}-3.sqlite3').resolve()}"
    assert left.read_bytes() == b"half-built"


def test_runs_that_look_for_a_name_at_the_same_moment_each_get_a_file_of_their_own(tmp_path):
    """Two reparse runs started in the same second, side by side: a name found free and then
    created would be the same file for both, and both histories would be written into it. The
    claim creates the file itself, exclusively: eight claims at once, eight files."""
    from concurrent.futures import ThreadPoolExecutor

    from tracker.services.history_files import claim_name

    start = threading.Barrier(8)

    def claim(_: int) -> Path:
        start.wait()
        return claim_name(tmp_path, "reparse-20261203T091913Z", ".sqlite3")

    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(claim, range(8)))
    assert len(set(claimed)) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in claimed)
    assert all(p.stat().st_size == 0 for p in claimed)  # empty: an empty SQLite database


def test_a_switch_never_replaces_a_previous_history_kept_under_the_same_name(tmp_path):
    from tracker.services.history_files import open_empty, switch_files

    data, old = _history_in(tmp_path, [p for p in scenario.pages() if p.source == "wipo"][:2])
    kept_before = data / "tracker.sqlite3.before-reparse-20261203T091913Z"
    kept_before.write_bytes(b"the history kept by a switch of the same second")
    new = open_empty(f"sqlite:///{data / 'new.sqlite3'}")
    kept = switch_files(old, new, ".before-reparse-20261203T091913Z")
    assert kept.name == "tracker.sqlite3.before-reparse-20261203T091913Z-2"
    assert kept_before.read_bytes() == b"the history kept by a switch of the same second"
    with sqlite3.connect(kept) as conn:  # the previous current history, whole
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] > 0
