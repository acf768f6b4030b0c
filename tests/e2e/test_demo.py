"""`tracker demo` end to end: a real subprocess serves the recorded pages on loopback, crawls them,
serves the API on a free port, and stops cleanly on SIGTERM/SIGINT (mirror and crawls included).

The demo uses its own SQLite database under --data-dir, whatever TRACKER_DATABASE_URL says."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.devtools.demo import FIXTURES, Candidate, DemoError, find_pages

FIXTURE_PAGES = FIXTURES / "untc"
READY = re.compile(r"^\s*dashboard\s+(http://\S+)")
MIRROR = re.compile(r"mirror of untc \(treaties\.un\.org\) on http://127\.0\.0\.1:(\d+)")
WIPO_MIRROR = re.compile(r"mirror of wipo \(www\.wipo\.int\) on http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 60  # seconds until the dashboard URL is printed
STOP_TIMEOUT = 20  # seconds from SIGTERM to exit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def leftover_processes(data_dir: Path) -> list[int]:
    """Processes (the demo's crawl subprocesses) still running with this test's data dir."""
    mine = f"TRACKER_DATA_DIR={data_dir}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if mine in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


class Demo:
    """`tracker demo` in a subprocess, its output read line by line in a thread."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = tmp_path / "demo"
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | (env or {})
        env["TRACKER_DATA_DIR"] = str(self.data_dir)  # the children inherit it: see leftovers
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "demo", "--no-browser",
             "--port", str(self.port), "--data-dir", str(self.data_dir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no {pattern.pattern!r} within {timeout} s:\n" + self.output())

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {STOP_TIMEOUT} s after signal {signum}") from None

    def output(self) -> str:
        time.sleep(0.2)  # let the reader thread drain what was printed last
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for d in started:
        d.kill()


def run_and_check(demo: list[Demo], tmp_path: Path, pages: list[str], expect: dict) -> str:
    """Start the demo, check the API answers with the crawled data, SIGTERM it, check it is gone."""
    began = time.monotonic()
    d = Demo(tmp_path, *pages)
    demo.append(d)
    mirror_port = int(d.wait_for(MIRROR, START_TIMEOUT).group(1))
    url = d.wait_for(READY, START_TIMEOUT - (time.monotonic() - began)).group(1)
    assert url == f"http://127.0.0.1:{d.port}/"
    assert port_open(mirror_port)

    treaties = get_json(url + "api/treaties?source=untc")
    assert isinstance(treaties, list)
    assert len(treaties) == expect["treaties"], [t["treaty"] for t in treaties]
    one = get_json(url + f"api/treaties/{expect['treaty']}")
    assert isinstance(one, dict)
    assert one["parties"] == expect["parties"]
    assert one["source_url"].startswith(f"http://127.0.0.1:{mirror_port}/Pages/ViewDetails.aspx")
    health = get_json(url + "healthz")
    assert health == {**health, "status": "ok", "database": "ok", "unhealthy_sources": []}
    assert (d.data_dir / "tracker.sqlite3").is_file()

    assert d.stop(signal.SIGTERM) == 0, d.output()
    out = d.output()
    assert "demo: stopped (service and mirrors)" in out
    assert not port_open(mirror_port)
    assert not port_open(d.port)
    assert leftover_processes(d.data_dir) == []
    assert time.monotonic() - began < 90
    return out


@pytest.mark.slow
def test_demo_on_the_project_fixtures(demo, tmp_path):
    """The fallback: the small hand-written pages; the two invalid ones are left out, said so."""
    expect = {"treaties": 3, "treaty": "IV-5", "parties": 4}
    out = run_and_check(demo, tmp_path, ["--pages", str(FIXTURE_PAGES)], expect)
    assert "illustrative" in out
    assert "left out 3 file(s)" in out and "viewdetails_maintenance.html" in out
    assert "crawl untc: 6 pages, 6 accepted, 0 unchanged, 0 quarantined, 0 failed" in out, out
    assert "(3 status pages;" in out, out


@pytest.mark.slow
def test_demo_serves_and_crawls_every_source(demo, tmp_path):
    """Without the real captures each source falls back to its own fixtures: one mirror per
    source, each crawled (WIPO: the treaties it has pages for), both answered by the API."""
    began = time.monotonic()
    d = Demo(tmp_path, env={"TRACKER_SHARED_FIXTURES": str(tmp_path / "no-shared")})
    demo.append(d)
    untc_port = int(d.wait_for(MIRROR, START_TIMEOUT).group(1))
    wipo_port = int(d.wait_for(WIPO_MIRROR, START_TIMEOUT).group(1))
    url = d.wait_for(READY, START_TIMEOUT - (time.monotonic() - began)).group(1)
    out = d.output()
    assert "crawl untc: 6 pages, 6 accepted" in out, out
    assert "crawl wipo: 4 pages, 4 accepted, 0 unchanged, 0 quarantined, 0 failed" in out, out
    treaties = get_json(url + "api/treaties")
    assert isinstance(treaties, list)
    assert {t["source"] for t in treaties} == {"untc", "wipo"}
    assert {"IV-5", "WIPO-843", "WIPO-2", "WIPO-29"} <= {t["treaty"] for t in treaties}
    marrakesh = get_json(url + "api/treaties/WIPO-843")
    assert isinstance(marrakesh, dict) and marrakesh["parties"] == 3
    assert marrakesh["source_url"].startswith(f"http://127.0.0.1:{wipo_port}/wipolex/")
    health = get_json(url + "healthz")
    assert isinstance(health, dict) and health["unhealthy_sources"] == []
    assert d.stop(signal.SIGTERM) == 0, d.output()
    assert not port_open(untc_port) and not port_open(wipo_port)
    assert leftover_processes(d.data_dir) == []


@pytest.mark.slow
def test_ctrl_c_during_the_first_crawl_stops_everything(demo, tmp_path):
    d = Demo(tmp_path, "--pages", str(FIXTURE_PAGES))
    demo.append(d)
    mirror_port = int(d.wait_for(MIRROR, START_TIMEOUT).group(1))
    time.sleep(1.0)  # into the crawl (Scrapy takes longer than this to start)
    assert d.stop(signal.SIGINT) == 0, d.output()
    out = d.output()
    assert "stopped before the service started" in out, out
    assert "dashboard" not in out
    assert not port_open(mirror_port)
    assert not port_open(d.port)
    assert leftover_processes(d.data_dir) == []


@pytest.mark.slow
def test_port_in_use_is_a_usage_error_before_any_work(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tracker.cli", "demo", "--no-browser", "--port", str(port),
             "--data-dir", str(tmp_path / "demo")],
            check=False, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert not (tmp_path / "demo").exists()


def test_pages_search_order_falls_back_and_says_why(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    candidates = [
        Candidate(tmp_path / "absent", "recorded"),
        Candidate(empty, "nothing here"),
        Candidate(FIXTURE_PAGES, "fixtures"),
    ]
    found, wipo = find_pages(None, {"untc": candidates, "wipo": []})
    assert (found.slug, found.label) == ("untc", "fixtures")
    assert sorted(p.treaty_id for p in found.pages) == ["IV-5", "XXVI-2-a", "XXVI-6"]
    assert [name for name, _ in found.skipped] == [
        "viewdetails_declarations.html",  # IV-5 again: the first page of a treaty is served
        "viewdetails_maintenance.html",
        "viewdetails_shrunken.html",
    ]
    assert found.skipped[0][1] == "IV-5 again (see viewdetails_3col.html)"
    assert "absent is absent" in found.notes[0]
    assert "no accepted untc status page" in found.notes[1]
    # A source with no pages anywhere: an empty set (an empty mirror, no crawl).
    assert (wipo.slug, wipo.pages) == ("wipo", [])
    # The first place that has pages wins, with nothing to report.
    assert find_pages(None, {"untc": candidates[2:], "wipo": []})[0].notes == []


def test_each_source_finds_its_own_fixtures_by_default(monkeypatch, tmp_path):
    """No candidates given: each registered source looks in its own places (the real captures'
    folder its mirror module names, then tests/fixtures/<slug>), with its own parser."""
    monkeypatch.setattr("tracker.devtools.demo.REAL", tmp_path / "no-shared")
    found = {s.slug: s for s in find_pages(None, {"untc": [Candidate(FIXTURE_PAGES, "u")]})}
    assert "no-shared/wipo_lex_html_2026-02-03 is absent" in found["wipo"].notes[0]
    assert list(found) == ["untc", "wipo"]
    assert {p.treaty_id for p in found["untc"].pages} == {"IV-5", "XXVI-2-a", "XXVI-6"}
    assert {"843", "2", "29"} <= {p.treaty_id for p in found["wipo"].pages}
    assert "maintenance.html" in {name for name, _ in found["wipo"].skipped}


def test_pages_of_both_sources_in_one_folder_go_each_to_its_source(tmp_path):
    for name in ("viewdetails_3col.html", "viewdetails_maintenance.html"):
        (tmp_path / name).write_bytes((FIXTURE_PAGES / name).read_bytes())
    (tmp_path / "marrakesh.html").write_bytes(
        (FIXTURES / "wipo" / "marrakesh_few.html").read_bytes()
    )
    untc, wipo = find_pages(tmp_path)
    assert [p.treaty_id for p in untc.pages] == ["IV-5"]
    assert [p.treaty_id for p in wipo.pages] == ["843"]
    assert untc.directory == wipo.directory == tmp_path
    # A page no source accepts is left out with each source's reason.
    ((name, reason),) = untc.skipped
    assert name == "viewdetails_maintenance.html"
    assert reason.startswith("untc: ") and "; wipo: " in reason


def test_a_source_without_pages_in_the_folder_looks_in_its_own_places(tmp_path):
    (tmp_path / "ccw.html").write_bytes((FIXTURE_PAGES / "viewdetails_3col.html").read_bytes())
    wipo_own = [Candidate(FIXTURES / "wipo", "wipo fixtures")]
    untc, wipo = find_pages(tmp_path, {"wipo": wipo_own})
    assert [p.treaty_id for p in untc.pages] == ["IV-5"]
    assert (wipo.label, wipo.directory) == ("wipo fixtures", FIXTURES / "wipo")
    assert "843" in {p.treaty_id for p in wipo.pages}
    assert wipo.notes[0].startswith("no wipo page in ")


def test_pages_option_errors(tmp_path):
    with pytest.raises(DemoError, match="no such directory"):
        find_pages(tmp_path / "nope")
    (tmp_path / "page.html").write_bytes(b"<html><body>Site under maintenance</body></html>")
    with pytest.raises(DemoError, match="no status page that a source's parser accepts"):
        find_pages(tmp_path)
    absent = [Candidate(tmp_path / "absent", "recorded")]
    with pytest.raises(DemoError, match="pass --pages"):
        find_pages(None, {"untc": absent, "wipo": absent})
