"""Run a crawl: `scrapy crawl <slug>` in a subprocess (Twisted's reactor cannot restart in-process)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.settings import Settings
from tracker.sources.untc_urls import chapter_of


_RUNNING: set[subprocess.Popen[bytes]] = set()


def _stop(proc: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM the crawl's process group (Scrapy closes cleanly), SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stop_running_crawls(grace: float = 30) -> int:
    """Stop every crawl subprocess this process started (service shutdown); return how many."""
    running = list(_RUNNING)
    for proc in running:
        _stop(proc, grace)
        _RUNNING.discard(proc)  # stopped: a second call (leader step-down, then exit) skips it
    return len(running)


@dataclass
class CrawlReport:
    """What one crawl did: the pipeline's summary plus the subprocess outcome."""

    returncode: int
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> str:
        """One line for people: every page asked for (status and navigation pages) is one of
        accepted, unchanged, quarantined or failed; then events, and what went wrong."""
        if self.error:
            return f"crawl failed: {self.error}"
        s = self.stats
        asked = s.get("asked", s.get("pages", 0))
        line = (
            f"crawl {s.get('source', '?')}: {asked} page{'' if asked == 1 else 's'}, "
            f"{s.get('accepted', 0)} accepted, {s.get('unchanged', 0)} unchanged, "
            f"{s.get('quarantined', 0)} quarantined, {s.get('failed', 0)} failed, "
            f"{s.get('events', 0)} events"
        )
        if "asked" in s:
            line += (
                f" ({s.get('pages', 0)} status pages; {s.get('rejected', 0)} out of order, "
                f"{s.get('lost', 0)} lost, {s.get('spooled', 0)} spooled)"
            )
        else:  # a summary from before the four-way accounting
            line += f" ({s.get('rejected', 0)} rejected)"
        if s.get("error"):
            line += f"; not ok: {s['error']}"
        return line


def run_crawl(
    settings: Settings,
    *,
    treaties: list[str] | None = None,
    base_url: str | None = None,
    source: str = "untc",
    fmt: str = "html",
) -> CrawlReport:
    """Crawl `source` (all its catalogue, or the given treaties) into the database."""
    for treaty in treaties or []:
        chapter_of(treaty)  # raises BadTreatyId with a clear message before any work starts
    settings.ensure_data_dir()
    with tempfile.TemporaryDirectory(prefix="tracker-crawl-") as tmp:
        summary_file = Path(tmp) / "summary.json"
        cmd = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            source,
            "-s",
            f"TRACKER_SUMMARY_FILE={summary_file}",
        ]
        if treaties:
            cmd += ["-a", "treaty=" + ",".join(treaties)]
        if fmt != "html":
            cmd += ["-a", f"format={fmt}"]
        extra = {"SCRAPY_SETTINGS_MODULE": "spiders.settings"}
        if base_url:
            extra["TRACKER_UNTC_BASE_URL"] = base_url.rstrip("/")
        proc = subprocess.Popen(cmd, env=settings.child_env(**extra), start_new_session=True)
        _RUNNING.add(proc)
        try:
            returncode = proc.wait(timeout=settings.crawl_timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return CrawlReport(returncode=124, error=f"timed out after {settings.crawl_timeout}s")
        finally:
            _RUNNING.discard(proc)
        if returncode < 0:
            return CrawlReport(returncode=returncode, error=f"stopped by signal {-returncode}")
        if not summary_file.exists():
            return CrawlReport(
                returncode=returncode or 1, error=f"scrapy exited with status {returncode}"
            )
        stats = json.loads(summary_file.read_text())
    return CrawlReport(returncode=returncode or (0 if crawl_ok(stats) else 1), stats=stats)


def crawl_ok(stats: dict[str, Any]) -> bool:
    """A crawl is good only if every page it asked for was accepted or unchanged, it asked for
    at least one status page, its catalogue index listed chapters, and the pipeline agrees."""
    problems = stats.get("quarantined", 0) + stats.get("failed", 0) + stats.get("rejected", 0)
    return (
        stats.get("ok", True) is True
        and problems == 0
        and stats.get("pages", 0) > 0
        and not stats.get("index_empty", False)
        and stats.get("balanced", True) is True
    )
