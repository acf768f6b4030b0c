"""The crawl subprocess under signals: `tracker crawl` stopped by SIGTERM or Ctrl-C stops its
Scrapy child and removes its temporary files; a child never outlives its parent, even one killed
by SIGKILL; `tracker run` restarted after a SIGKILL stops the orphan before crawling again; a
pid left in the lock file that now names another process is never signalled.

Real subprocesses, real signals, a server on 127.0.0.1 that accepts connections and never
answers (so a crawl is reliably "running"), and a real database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.engine import make_engine, make_session_factory
from db.models import Source
from spiders.lifeline import ORPHAN_REASON
from tracker.runtime.crawl_guard import CrawlGuard, stop_orphaned_crawls
from tracker.runtime.pids import ProcessId

pytestmark = [pytest.mark.db, pytest.mark.slow]

# Each request to the hanging site times out: with several treaties the crawl lasts long enough
# to be stopped midway, while one in-flight request ends quickly (TRACKER_DOWNLOAD_TIMEOUT).
TREATIES = ["XXVI-1", "XXVI-2", "XXVI-3", "XXVI-4", "XXVI-5", "XXVI-6", "XXVI-7", "XXVI-8"]


def wait_for(what: str, predicate: Callable[[], Any], timeout: float, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(every)


class HangingServer:
    """Accepts every connection on 127.0.0.1 and never answers (a site that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {
        **cli_env,
        "TMPDIR": str(tmp),  # where the crawl's temporary directory goes
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_HTTP_CACHE": "0",
        "TRACKER_DOWNLOAD_TIMEOUT": "2",
        "TRACKER_LOG_LEVEL": "INFO",
    }


def temp_dirs(env: dict[str, str]) -> list[str]:
    return sorted(p.name for p in Path(env["TMPDIR"]).iterdir() if p.name.startswith("tracker-"))


def pid_file(env: dict[str, str]) -> Path:
    return Path(env["TRACKER_DATA_DIR"]) / "crawl-untc.pid"


def running_crawl(env: dict[str, str]) -> dict[str, Any] | None:
    """The crawl subprocess the lock file names, once it is running."""
    try:
        text = pid_file(env).read_text()
    except OSError:
        return None
    return json.loads(text) if text.strip() else None


def gone(pid: int) -> bool:
    return ProcessId.of(pid) is None  # no such process, or a zombie


def source_row(settings) -> Source | None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(Source).where(Source.slug == "untc"))
    finally:
        engine.dispose()


def start_crawl(env: dict[str, str], base_url: str, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tracker.cli",
                "crawl",
                "--base-url",
                base_url,
                *(arg for t in TREATIES for arg in ("--treaty", t)),
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stopped_crawl_stops_its_child_and_removes_its_temporary_files(
    env, hanging, tmp_path, settings, signum
):
    out = tmp_path / "crawl.out"
    parent = start_crawl(env, hanging.base_url, out)
    try:
        child = wait_for("the crawl subprocess runs", lambda: running_crawl(env), 30)
        assert child["parent_pid"] == parent.pid and not gone(child["pid"])
        assert len(temp_dirs(env)) == 1
        wait_for("the crawl has asked the site", lambda: hanging.accepted, 20)
        started = time.monotonic()
        parent.send_signal(signum)  # Ctrl-C: SIGINT to the foreground process (the CLI)
        returncode = parent.wait(30)
        took = time.monotonic() - started
    finally:
        if parent.poll() is None:
            parent.kill()
    text = out.read_text()
    assert returncode == 128 + signum, text  # 143 / 130: the exit status says it was stopped
    assert f"crawl untc stopped ({signal.Signals(signum).name})" in text, text
    assert took < 20  # closed cleanly (the hung request timed out after 2 s), no SIGKILL needed
    assert gone(child["pid"])
    assert temp_dirs(env) == []
    assert running_crawl(env) is None  # the lock file names no crawl any more
    # Recorded as stopped: neither a success nor a failure of the source.
    row = source_row(settings)
    assert row is not None and row.last_crawl is not None
    assert row.last_crawl["stopped"] and row.last_crawl["ok"] is False, row.last_crawl
    assert (row.consecutive_failures, row.last_success_at) == (0, None)


def test_a_second_signal_kills_the_crawl_at_once(env, hanging, tmp_path):
    env = {**env, "TRACKER_DOWNLOAD_TIMEOUT": "60"}  # a clean stop would wait for the site
    out = tmp_path / "crawl.out"
    parent = start_crawl(env, hanging.base_url, out)
    try:
        child = wait_for("the crawl subprocess runs", lambda: running_crawl(env), 30)
        wait_for("the crawl has asked the site", lambda: hanging.accepted, 20)
        parent.send_signal(signal.SIGINT)
        time.sleep(1.5)
        assert parent.poll() is None and not gone(child["pid"])  # closing cleanly, waiting
        started = time.monotonic()
        parent.send_signal(signal.SIGINT)  # Ctrl-C again: kill it
        returncode = parent.wait(15)
        took = time.monotonic() - started
    finally:
        if parent.poll() is None:
            parent.kill()
    assert returncode == 130, out.read_text()
    assert took < 5
    assert gone(child["pid"]) and temp_dirs(env) == []


DRIVER = textwrap.dedent(
    """
    import sys
    import tracker.runtime.crawl_runner as crawl
    from tracker.settings import Settings

    crawl.STOP_GRACE_SECONDS = float(sys.argv[2])
    treaties = sys.argv[3].split(",")
    print(crawl.run_crawl(Settings.from_env(), treaties=treaties, base_url=sys.argv[1], source="untc"))
    """
)


@pytest.mark.parametrize(
    ("download_timeout", "grace", "bound", "clean"),
    [("60", "3", 12.0, False), ("1", "20", 12.0, True)],
    ids=["hung: exits hard after the grace", "stops itself cleanly"],
)
def test_a_crawl_never_outlives_its_parent_killed_by_sigkill(
    env, hanging, tmp_path, settings, download_timeout, grace, bound, clean
):
    env = {**env, "TRACKER_DOWNLOAD_TIMEOUT": download_timeout}
    with (tmp_path / "driver.out").open("wb") as sink:
        parent = subprocess.Popen(
            [sys.executable, "-c", DRIVER, hanging.base_url, grace, ",".join(TREATIES)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        child = wait_for("the crawl subprocess runs", lambda: running_crawl(env), 30)
        wait_for("the crawl has asked the site", lambda: hanging.accepted, 20)
        assert len(temp_dirs(env)) == 1
        parent.kill()
        parent.wait(5)
        killed = time.monotonic()
        wait_for("the orphaned crawl is gone", lambda: gone(child["pid"]), bound)
        took = time.monotonic() - killed
    finally:
        if parent.poll() is None:
            parent.kill()
        if not gone(child["pid"]):
            os.kill(child["pid"], signal.SIGKILL)
    assert took <= bound
    assert temp_dirs(env) == []  # the orphan removed its dead parent's temporary directory
    row = source_row(settings)
    if clean:  # it closed cleanly: the pipeline recorded the crawl as stopped, and why
        assert row is not None and row.last_crawl is not None
        assert row.last_crawl["stopped"].startswith(ORPHAN_REASON), row.last_crawl
        assert row.consecutive_failures == 0
    else:  # it was stuck: it exited hard after the grace, before the crawl could be recorded
        assert took >= float(grace)
        assert row is None or row.last_crawl is None


def test_a_second_crawl_of_the_source_is_refused_while_one_runs(env, hanging, tmp_path):
    guard = CrawlGuard(Path(env["TRACKER_DATA_DIR"]), "untc")
    assert guard.acquire()  # as a crawl running in this process would
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tracker.cli",
                "crawl",
                "--treaty",
                TREATIES[0],
                "--base-url",
                hanging.base_url,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        guard.release()
    assert done.returncode == 75, done.stdout + done.stderr
    assert "crawl not started: a crawl of untc is already running" in done.stdout
    assert hanging.accepted == []  # nothing was fetched


# --- a pid in the lock file is verified against /proc -------------------------------------------


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not a crawl (its pid may turn up in a stale lock file)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def write_record(data_dir: Path, **fields: Any) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    record = {"source": "untc", "parent_pid": 1, "started_at": "2026-12-01T00:00:00+00:00"}
    (data_dir / "crawl-untc.pid").write_text(json.dumps({**record, **fields}))


@pytest.mark.parametrize(
    "change",
    [{"start_ticks": 1}, {"boot_id": "another-boot"}],
    ids=["the pid was reused by another process", "the record is from another boot"],
)
def test_a_reused_pid_is_never_signalled(tmp_path, bystander, change):
    me = ProcessId.of(bystander.pid)
    assert me is not None
    identity = {"pid": me.pid, "start_ticks": me.start_ticks, "boot_id": me.boot_id}
    left = tmp_path / "tracker-crawl-left"  # the dead crawl's temporary directory
    left.mkdir()
    write_record(tmp_path / "data", **{**identity, **change}, tmp_dir=str(left))
    assert stop_orphaned_crawls(tmp_path / "data", ("untc",), grace=2) == []
    time.sleep(0.3)
    assert bystander.poll() is None  # untouched
    assert (tmp_path / "data" / "crawl-untc.pid").read_text() == ""  # the stale record: cleared
    assert not left.exists()  # and what the dead crawl left behind, removed


def test_the_orphan_a_record_names_is_stopped_only_when_no_live_process_holds_the_lock(
    tmp_path, bystander
):
    me = ProcessId.of(bystander.pid)
    assert me is not None
    write_record(tmp_path, pid=me.pid, start_ticks=me.start_ticks, boot_id=me.boot_id)
    holder = CrawlGuard(tmp_path, "untc")
    assert holder.acquire()  # its parent is alive: the crawl is not an orphan
    try:
        assert stop_orphaned_crawls(tmp_path, ("untc",), grace=2) == []
        assert bystander.poll() is None
    finally:
        holder.release()  # the parent dies
    assert stop_orphaned_crawls(tmp_path, ("untc",), grace=2) == ["untc"]
    assert bystander.wait(5) == -signal.SIGTERM
    assert (tmp_path / "crawl-untc.pid").read_text() == ""


# --- `tracker run` restarted after a SIGKILL -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def json_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_tracker_run_restarted_after_a_sigkill_stops_the_orphaned_crawl_first(
    env, hanging, tmp_path
):
    env = {
        **env,
        "TRACKER_UNTC_BASE_URL": hanging.base_url,
        "TRACKER_DOWNLOAD_TIMEOUT": "60",  # the orphan's clean stop hangs: it must be stopped
        "TRACKER_CRAWL_TIMEOUT": "120",
        "TRACKER_LEADER_POLL_SECONDS": "1",
        "TRACKER_LOG_FORMAT": "json",
    }
    services: list[subprocess.Popen[bytes]] = []

    def start(name: str, **extra: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "run", "--port", str(free_port())],
                env={**env, **extra},
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        services.append(proc)
        return proc, log

    try:
        first, _ = start("first")
        orphan = wait_for("the first service's crawl runs", lambda: running_crawl(env), 45)
        assert orphan["parent_pid"] == first.pid
        first.kill()
        first.wait(5)
        time.sleep(1)
        assert not gone(orphan["pid"])  # stuck in its clean stop (the site hangs)

        second, log = start("second", TRACKER_DOWNLOAD_TIMEOUT="2")  # its own crawl: quick stop
        crawl = wait_for(
            "the second service crawls",
            lambda: (c := running_crawl(env)) and c["parent_pid"] == second.pid and c,
            45,
        )
        assert gone(orphan["pid"])  # stopped before the new crawl started
        assert crawl["pid"] != orphan["pid"]
        said = [r["message"] for r in json_records(log)]
        stopped = [m for m in said if "stopped the orphaned crawl" in m]
        assert stopped and f"pid {orphan['pid']}" in stopped[0], said

        second.send_signal(signal.SIGTERM)  # and the service stops its own crawl on the way out
        assert second.wait(30) == 0
        assert gone(crawl["pid"])
        assert running_crawl(env) is None
        # The first service's other crawls (WIPO's too) were orphaned as well: each removes its
        # parent's temporary directory itself as it stops (spiders.lifeline), which on a loaded
        # machine can come after this service's stop; none may be left.
        wait_for("no crawl's temporary directory is left", lambda: temp_dirs(env) == [], 35)
    finally:
        for proc in services:
            if proc.poll() is None:
                proc.kill()
        record = running_crawl(env)
        if record and not gone(record["pid"]):
            os.kill(record["pid"], signal.SIGKILL)
