"""Leader election: the locks (a lock file on SQLite, an advisory lock on PostgreSQL) and the
`Leadership` loop that starts and stops the scheduler with them."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from db.engine import make_engine
from tracker.runtime.leadership import Leadership
from tracker.runtime.locks import (
    FileLock,
    PostgresAdvisoryLock,
    advisory_lock_key,
    lock_file_for,
    make_leader_lock,
)
from tracker.settings import ConfigError, Settings


def wait_for(predicate, timeout: float = 20, every: float = 0.1) -> float:
    """Seconds until `predicate()` is true; fails the test after `timeout`."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not true after {timeout} s")
        time.sleep(every)
    return time.monotonic() - start


# --- the lock file -----------------------------------------------------------------------------


def test_two_lock_files_on_one_path_second_refuses_until_the_first_releases(tmp_path):
    path = tmp_path / "data" / "tracker.sqlite3.leader.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire() and not second.still_held()
    assert first.try_acquire()  # re-entrant for its holder
    assert path.read_text() == f"{os.getpid()}\n"
    first.release()
    assert not first.still_held()
    assert second.try_acquire() and second.still_held()
    assert not first.try_acquire()
    second.release()
    assert path.exists()  # never deleted: deleting a lock file races with the next holder


def test_a_deleted_lock_file_is_a_lost_lock(tmp_path):
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_acquire()
    path.unlink()  # someone removed it: a new file could be locked by another process
    assert second.try_acquire()
    assert not first.still_held()


def test_lock_file_sits_beside_the_sqlite_database(tmp_path):
    settings = Settings(tmp_path / "data", f"sqlite:///{tmp_path / 'db' / 'x.sqlite3'}")
    assert lock_file_for(settings) == tmp_path / "db" / "x.sqlite3.leader.lock"
    assert lock_file_for(Settings(tmp_path / "d", "sqlite://")) == (
        tmp_path / "d" / "scheduler.leader.lock"
    )
    assert isinstance(make_leader_lock(settings), FileLock)
    pg = Settings(tmp_path, "postgresql+psycopg://u@h/db")
    assert isinstance(make_leader_lock(pg), PostgresAdvisoryLock)


def test_the_advisory_key_is_fixed_per_schema_and_signed_64_bit():
    assert advisory_lock_key() == advisory_lock_key("public") == 1856686319627085023
    assert advisory_lock_key("a") != advisory_lock_key("b")
    for schema in ("public", "a", "tracker_test_gw0_0123abcd"):
        assert -(2**63) <= advisory_lock_key(schema) < 2**63


def test_the_poll_interval_is_a_setting():
    assert Settings.from_env({}).leader_poll_seconds == 10.0
    assert Settings.from_env({"TRACKER_LEADER_POLL_SECONDS": "1.5"}).leader_poll_seconds == 1.5
    with pytest.raises(ConfigError):
        Settings.from_env({"TRACKER_LEADER_POLL_SECONDS": "0"})


# --- both backends (the db_url fixture: SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL) --

HOLDER = """
import sys, time
from tracker.runtime.locks import make_leader_lock
from tracker.settings import Settings
lock = make_leader_lock(Settings.from_env())
print("held" if lock.try_acquire() else "refused", flush=True)
time.sleep(600)
"""


def lock_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.mark.db
def test_one_holder_per_database(db_url, tmp_path):
    first = make_leader_lock(lock_settings(db_url, tmp_path))
    second = make_leader_lock(lock_settings(db_url, tmp_path))
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire() and not second.still_held()
        first.release()
        assert not first.still_held()
        assert second.try_acquire() and second.still_held()
        assert not first.try_acquire()
    finally:
        first.close()
        second.close()


@pytest.mark.db
@pytest.mark.slow  # kills a real subprocess holding the lock
def test_a_killed_holder_loses_the_lock_to_the_next(db_url, tmp_path):
    """Another process holds the lock; SIGKILL it: the lock is free at once (kernel closes the
    file or the socket; PostgreSQL ends the session)."""
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": db_url,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True
    )
    lock = make_leader_lock(lock_settings(db_url, tmp_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not lock.try_acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        wait_for(lock.try_acquire, timeout=10)
        assert lock.still_held()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        lock.close()


@pytest.mark.db
def test_postgres_a_broken_lock_connection_is_a_lost_lock(db_url, tmp_path):
    """PostgreSQL only: the server ends the holder's session (restart, failover, admin):
    `still_held()` says so, and the standby gets the lock."""
    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only (TRACKER_TEST_DATABASE_URL)")
    first, second = PostgresAdvisoryLock(db_url), PostgresAdvisoryLock(db_url)
    admin = make_engine(db_url)
    try:
        assert first.try_acquire() and not second.try_acquire()
        assert first._conn is not None
        pid = first._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        wait_for(lambda: not first.still_held(), timeout=10)
        assert second.try_acquire()
        assert not first.try_acquire()  # reconnects, but the other one holds it now
    finally:
        first.close()
        second.close()
        admin.dispose()


def test_postgres_down_is_a_refusal_not_a_crash(caplog):
    lock = PostgresAdvisoryLock("postgresql+psycopg://nobody@127.0.0.1:9/none")
    with caplog.at_level(logging.WARNING, logger="tracker.leader"):
        assert not lock.try_acquire()
        assert not lock.try_acquire()
    assert not lock.still_held()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and warnings[0].startswith("leader: cannot try the lock")
    lock.close()


# --- the Leadership loop -----------------------------------------------------------------------


class FakeLock:
    description = "fake lock"

    def __init__(self) -> None:
        self.free, self.held, self.releases = True, False, 0

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.free:
            self.free, self.held = False, True
        return self.held

    def still_held(self) -> bool:
        return self.held

    def release(self) -> None:
        if self.held:
            self.free = True
        self.held = False
        self.releases += 1

    def lose(self) -> None:  # e.g. the connection broke and another process took it
        self.held = False


class FakeScheduler:
    def __init__(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True

    def shutdown(self, wait: bool = True) -> None:
        self.running = False


def messages(caplog) -> list[str]:
    return [r.getMessage().split(" (")[0] for r in caplog.records if r.name == "tracker.leader"]


def test_leadership_starts_the_scheduler_on_acquiring_and_stops_it_on_losing(caplog):
    lock, made, step_downs = FakeLock(), [], []

    def make() -> FakeScheduler:
        made.append(FakeScheduler())
        return made[-1]

    lead = Leadership(lock, make, 1, on_step_down=lambda: step_downs.append(1))
    with caplog.at_level(logging.INFO, logger="tracker.leader"):
        assert lead.poll() and lead.is_leader and made[0].running
        assert lead.poll() and len(made) == 1  # still held: nothing new
        lock.lose()
        lock.free = False  # the other process has it
        assert not lead.poll()
        assert not made[0].running and step_downs == [1] and not lead.is_leader
        assert not lead.poll() and not lead.poll()  # standby, said once
        lock.free = True  # the other one died
        assert lead.poll() and len(made) == 2 and made[1].running  # a fresh scheduler
        lead.stop()
    assert not made[1].running and step_downs == [1, 1] and lock.free
    assert messages(caplog) == [
        "leader: acquired",
        "leader: lost",
        "leader: standby",
        "leader: acquired",
        "leader: released",
    ]
    (lost,) = [r for r in caplog.records if r.getMessage().startswith("leader: lost")]
    assert (lost.levelname, lost.state) == ("ERROR", "lost")


def test_a_standby_says_so_once_and_never_starts_a_scheduler(caplog):
    lock = FakeLock()
    lock.free = False
    lead = Leadership(lock, lambda: pytest.fail("no scheduler in standby"), 1)
    with caplog.at_level(logging.INFO, logger="tracker.leader"):
        for _ in range(3):
            assert not lead.poll()
        lead.stop()
    assert messages(caplog) == ["leader: standby"]


def test_a_scheduler_that_cannot_start_gives_the_lock_back(caplog):
    lock = FakeLock()

    def broken() -> FakeScheduler:
        raise RuntimeError("no")

    lead = Leadership(lock, broken, 1)
    with caplog.at_level(logging.INFO, logger="tracker.leader"):
        assert not lead.poll()
    assert lock.free and not lead.is_leader


def test_the_leadership_thread_polls_until_stopped():
    lock, made = FakeLock(), []
    lock.free = False
    lead = Leadership(lock, lambda: made.append(FakeScheduler()) or made[-1], 0.05).start()
    time.sleep(0.2)
    assert not made
    lock.free = True
    wait_for(lambda: lead.is_leader, timeout=5, every=0.01)
    assert made[0].running
    lead.stop()
    assert not made[0].running and not lead.is_leader and lock.free
    assert not lead.poll()  # stopped for good


# --- a takeover does not re-crawl what the previous leader just crawled -----------------------


@pytest.mark.db
def test_a_new_scheduler_crawls_now_unless_a_crawl_just_finished(settings, session_factory):
    from datetime import UTC, datetime, timedelta

    from tracker.runtime.jobs import CRAWL_INTERVAL_HOURS, first_crawl_at
    from tracker.runtime.scheduler import build_scheduler
    from tracker.services.crawl_records import record_crawl

    now = datetime.now(UTC)
    assert first_crawl_at(settings, "untc", now) == now  # never crawled
    record_crawl(session_factory, "untc", {}, False, "x", now - timedelta(hours=1))
    expected = now + timedelta(hours=CRAWL_INTERVAL_HOURS - 1)
    assert first_crawl_at(settings, "untc", now) == expected  # the previous leader's crawl
    job = build_scheduler(settings).get_job("crawl:untc")
    assert abs(job.next_run_time - expected) < timedelta(seconds=5)
    later = now + timedelta(hours=CRAWL_INTERVAL_HOURS + 1)
    assert first_crawl_at(settings, "untc", later) == later  # overdue: at once, as after downtime
    broken = Settings(settings.data_dir, "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert first_crawl_at(broken, "untc", now) == now
    # A crawl stopped by the service's own shutdown (a restart, a deploy) did not finish: the
    # next leader crawls at once instead of an interval after it.
    record_crawl(
        session_factory, "untc", {}, False, "stopped", now - timedelta(minutes=1), stopped=True
    )
    assert first_crawl_at(settings, "untc", now) == now
