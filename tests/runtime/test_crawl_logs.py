"""The crawl subprocess logs in the service's format: under `tracker run` every line it writes
(Scrapy's records, our pipeline's, warnings, stray prints, a traceback) is one JSON object.

Real `tracker run` against a loopback mirror until a crawl finished; real child processes.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support.untc_render import Page, Row, render

from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, untc_site

pytestmark = [pytest.mark.db, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_lines(text: str, where: str) -> list[dict[str, Any]]:
    """Every line is one JSON object with the formatter's keys (or the test fails naming it)."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"{where} line {number} is not JSON: {line[:300]!r}")
        assert isinstance(record, dict), (where, number, line)
        assert {"time", "level", "logger", "message"} <= record.keys(), (where, number, line)
        records.append(record)
    return records


def test_every_line_of_tracker_run_is_json_crawl_included(cli_env, tmp_path):
    tpnw = Page(
        "XXVI-9",
        "Treaty on the Prohibition of Nuclear Weapons",
        [Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8))],
    )
    mirror = build_mirror(
        tmp_path / "mirror", untc_site([RecordedPage("XXVI-9", render(tpnw), "TPNW")])
    )
    out, err = tmp_path / "run.out", tmp_path / "run.err"
    with serve(mirror) as server:
        env = {
            **cli_env,
            "TRACKER_UNTC_BASE_URL": server.base_url,
            "TRACKER_DOWNLOAD_DELAY": "0",
            "TRACKER_RETRY_TIMES": "0",
            "TRACKER_LEADER_POLL_SECONDS": "1",
            "TRACKER_LOG_LEVEL": "DEBUG",  # the most lines Scrapy and the pipeline write
        }
        env.pop("TRACKER_LOG_FORMAT", None)  # `tracker run` logs JSON by default
        with out.open("wb") as stdout, err.open("wb") as stderr:
            service = subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "run", "--port", str(free_port())],
                env=env,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            deadline = time.monotonic() + 90

            def untc_crawled() -> bool:  # wipo's crawl job (to a dead port) runs too
                lines = err.read_text().splitlines()
                return any('"event":"crawl"' in li and '"source":"untc"' in li for li in lines)

            while "crawl summary" not in err.read_text() or not untc_crawled():
                assert service.poll() is None, err.read_text()[-3000:]
                assert time.monotonic() < deadline, err.read_text()[-3000:]
                time.sleep(0.3)
            service.send_signal(signal.SIGTERM)
            assert service.wait(60) == 0
        finally:
            if service.poll() is None:
                service.kill()
    records = parse_lines(err.read_text(), "stderr") + parse_lines(out.read_text(), "stdout")
    loggers = {r["logger"] for r in records}
    # The child's own lines are among them: Scrapy's engine, the pipeline, the crawl's summary.
    assert {"scrapy.core.engine", "scrapy.middleware", "spiders.pipelines"} <= loggers, loggers
    assert any(r["message"].startswith("Spider closed (finished)") for r in records)
    (crawl,) = [r for r in records if r.get("event") == "crawl" and r.get("source") == "untc"]
    # One status page; with the index and chapter pages, three pages asked for and accepted.
    assert (crawl["ok"], crawl["pages"], crawl["asked"], crawl["accepted"]) == (True, 1, 3, 3), (
        crawl
    )
    assert any(r["level"] == "DEBUG" and r["logger"].startswith("scrapy") for r in records)


CRASH = textwrap.dedent(
    """
    import sys, threading, warnings
    from spiders.child import json_logging

    json_logging("INFO")
    warnings.warn("a warning from the crawl")
    print("a stray print\\nsecond line")
    print("to stderr", file=sys.stderr)
    t = threading.Thread(target=lambda: 1 / 0, name="worker")
    t.start(); t.join()
    raise RuntimeError("the crawl crashed")
    """
)


def test_warnings_prints_and_tracebacks_of_the_child_are_json_lines(cli_env):
    done = subprocess.run(
        [sys.executable, "-c", CRASH],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""  # stray prints went to the log, on stderr
    records = parse_lines(done.stderr, "stderr")
    said = [(r["logger"], r["level"], r["message"]) for r in records]
    assert ("stdout", "INFO", "a stray print") in said and ("stdout", "INFO", "second line") in said
    assert ("stderr", "WARNING", "to stderr") in said
    (warning,) = [r for r in records if r["logger"] == "py.warnings"]
    assert "a warning from the crawl" in warning["message"]
    (thread,) = [r for r in records if r["message"].startswith("thread worker crashed")]
    assert "ZeroDivisionError" in thread["exception"]
    crash = records[-1]
    assert crash["level"] == "CRITICAL" and crash["message"].startswith("crawl crashed")
    assert (
        "Traceback" in crash["exception"]
        and "RuntimeError: the crawl crashed" in crash["exception"]
    )


def test_a_crawl_that_cannot_start_says_so_in_json(cli_env, tmp_path):
    """Scrapy itself failing (an unknown spider): its traceback is one JSON record too."""
    env = {**cli_env, "TRACKER_LOG_FORMAT": "json", "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "spiders.child", "crawl", "no-such-spider"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode != 0
    records = parse_lines(done.stderr, "stderr") + parse_lines(done.stdout, "stdout")
    assert any("no-such-spider" in (r["message"] + r.get("exception", "")) for r in records), (
        records
    )


def test_text_mode_is_plain_scrapy(cli_env, tmp_path):
    env = {**cli_env, "TRACKER_LOG_FORMAT": "text", "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "spiders.child", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["untc", "wipo"]  # `scrapy list`, untouched
