"""Two real `tracker run` processes on one database: both serve HTTP, exactly one runs the
scheduler; SIGKILL that one and the other takes the scheduler over within a minute.

PostgreSQL (TRACKER_TEST_DATABASE_URL): the advisory lock; SQLite: the lock file. Crawls go to a
dead local port, so they fail fast; logs are JSON, one object per line.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.db, pytest.mark.slow]

POLL_SECONDS = 1
TAKEOVER_LIMIT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes]
    _seen: int = field(default=0)

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records so far (the crawl subprocess's own text lines are skipped)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out

    def said(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if str(r.get("message", "")).startswith(prefix)]

    def healthz(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


def wait_for(what: str, predicate, timeout: float, services: list[Service]) -> float:
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return time.monotonic() - start
        for s in services:
            if s.proc.poll() is not None and s.proc.returncode != -signal.SIGKILL:
                pytest.fail(f"{s.name} exited ({s.proc.returncode}):\n{s.log_tail()}")
        if time.monotonic() - start > timeout:
            tails = "\n\n".join(f"== {s.name}\n{s.log_tail()}" for s in services)
            pytest.fail(f"{what}: not within {timeout} s\n{tails}")
        time.sleep(0.2)


@pytest.fixture
def service_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **cli_env,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_UNTC_BASE_URL": "http://127.0.0.1:9",  # nothing listens: crawls fail fast
        "TRACKER_CRAWL_TIMEOUT": "60",
        "TRACKER_DOWNLOAD_TIMEOUT": "5",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_HTTP_CACHE": "0",
        "TRACKER_LEADER_POLL_SECONDS": str(POLL_SECONDS),
        "TRACKER_LOG_FORMAT": "json",
        "TRACKER_LOG_LEVEL": "INFO",
    }


def test_one_leader_and_a_takeover_within_a_minute(service_env, tmp_path):
    services: list[Service] = []

    def start(name: str) -> Service:
        port, log_path = free_port(), tmp_path / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "run", "--port", str(port)],
                env=service_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        service = Service(name, port, log_path, proc)
        services.append(service)
        return service

    try:
        a = start("a")
        wait_for("a answers /healthz", a.healthz, 60, services)
        b = start("b")
        wait_for("b answers /healthz", b.healthz, 60, services)
        wait_for(
            "both have taken a side",
            lambda: all(s.said("leader: acquired") or s.said("leader: standby") for s in services),
            30,
            services,
        )
        time.sleep(3 * POLL_SECONDS)  # a few more election rounds: still exactly one leader
        leaders = [s for s in services if s.said("leader: acquired")]
        assert len(leaders) == 1, [s.name for s in leaders]
        leader = leaders[0]
        standby = b if leader is a else a
        assert standby.said("leader: standby") and not standby.said("leader: acquired")
        assert standby.healthz() is not None and leader.healthz() is not None

        # The leader's scheduler ran: a crawl that failed (dead port), logged as one JSON record.
        wait_for("the leader logs its crawl", lambda: leader.said("crawl untc"), 60, services)
        crawls = [r for r in leader.records() if r.get("event") == "crawl"]
        (crawl,) = [r for r in crawls if r.get("source") == "untc"]  # wipo's job crawls too
        assert crawl["level"] == "WARNING" and crawl["logger"] == "tracker.service"
        assert (crawl["ok"], crawl["pages"], crawl["failed"]) == (False, 0, 1), crawl
        for key in ("accepted", "quarantined", "unchanged", "events", "time"):
            assert key in crawl
        assert [r for r in leader.records() if r.get("event") == "evaluation"]
        assert not [r for r in standby.records() if r.get("event") in ("crawl", "evaluation")]

        killed_at = time.monotonic()
        leader.proc.kill()  # SIGKILL: no clean-up, no unlock; the kernel closes its files/sockets
        leader.proc.wait(10)
        took = wait_for(
            "the standby takes over",
            lambda: standby.said("leader: acquired"),
            TAKEOVER_LIMIT,
            services,
        )
        elapsed = time.monotonic() - killed_at
        print(f"takeover after SIGKILL: {elapsed:.2f} s (poll {POLL_SECONDS} s)")
        assert took < TAKEOVER_LIMIT
        assert standby.healthz() is not None
        # The new leader's scheduler runs its jobs (the daily evaluation runs at start).
        wait_for(
            "the new leader evaluates",
            lambda: [r for r in standby.records() if r.get("event") == "evaluation"],
            30,
            services,
        )

        standby.proc.send_signal(signal.SIGTERM)
        assert standby.proc.wait(60) == 0
        assert standby.said("leader: released")
    finally:
        for s in services:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(10)
