"""`tracker demo`: the whole system on one machine with no internet, on recorded pages.

Serves the recorded UNTC status pages on loopback (a `tracker.devtools.mirror` built by
`tracker.sources.untc.mirror`), crawls them once into a demo SQLite database with politeness relaxed for
loopback, then runs the service (HTTP API, dashboard, scheduler) on it until SIGTERM or Ctrl-C,
and opens the dashboard in a browser when one is available.

The recorded pages are found in this order: `--pages DIR`; the real UNTC status pages of
Feb 2026 in `../shared/fixtures/real/` beside the clone (never copied into the repository); the
project's own small, illustrative fixtures in `tests/fixtures/untc/`.

Over 300 lines on purpose: one command, its page search, mirror, crawl and service in one
place a developer reads top to bottom.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from tracker.devtools.mirror import MirrorServer, build_mirror
from tracker.devtools.paths import REAL, ROOT
from tracker.runtime.crawl_report import CrawlReport
from tracker.runtime.crawl_runner import run_crawl, stop_running_crawls
from tracker.settings import Settings
from tracker.sources.untc.mirror import RecordedPage, untc_site

REAL_PAGES = REAL / "untc_viewdetails_html_2026-02-03"
FIXTURE_PAGES = ROOT / "tests" / "fixtures" / "untc"
LOOPBACK_CONCURRENCY = 8


class DemoError(Exception):
    """Something the user can fix (no pages, port in use): one line, exit 2."""


@dataclass(frozen=True)
class Candidate:
    """A place where recorded pages may be, and how to describe them."""

    directory: Path
    label: str


DEFAULT_CANDIDATES: tuple[Candidate, ...] = (
    Candidate(REAL_PAGES, "the real UNTC status pages recorded on 3 Feb 2026"),
    Candidate(
        FIXTURE_PAGES,
        "the project's small hand-written fixtures (illustrative rows and dates, "
        "not real statuses)",
    ),
)


@dataclass
class PageSet:
    """The pages the demo serves: accepted status pages, and the files left out with why."""

    directory: Path
    label: str
    pages: list[RecordedPage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_pages(directory: Path, label: str) -> PageSet:
    """Every `*.html` status page in `directory` that the UNTC parser accepts, by its treaty id.

    A page the parser rejects (maintenance page, counts that disagree...) would be quarantined by
    the crawl and mark the source unhealthy, so it is left out of the mirror and reported.
    """
    from tracker.sources import PageRejected, parse

    found = PageSet(directory, label)
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.html")):
        body = path.read_bytes()
        try:
            status = parse("untc", body, url=path.resolve().as_uri())
        except PageRejected as rejected:
            found.skipped.append((path.name, rejected.reason))
            continue
        if status.treaty_id in seen:
            first = seen[status.treaty_id]
            found.skipped.append((path.name, f"{status.treaty_id} again (see {first})"))
            continue
        seen[status.treaty_id] = path.name
        found.pages.append(RecordedPage(status.treaty_id, body, status.title))
    return found


def find_pages(
    explicit: Path | None, candidates: Sequence[Candidate] = DEFAULT_CANDIDATES
) -> PageSet:
    """The pages named by `--pages`, else the first candidate folder that holds status pages."""
    if explicit is not None:
        if not explicit.is_dir():
            raise DemoError(f"--pages {explicit}: no such directory")
        known = {c.directory.resolve(): c.label for c in candidates}
        pages = load_pages(explicit, known.get(explicit.resolve(), "the pages given by --pages"))
        if not pages.pages:
            raise DemoError(f"--pages {explicit}: no UNTC status page the parser accepts")
        return pages
    notes = []
    for candidate in candidates:
        if not candidate.directory.is_dir():
            notes.append(f"{_show(candidate.directory)} is absent")
            continue
        pages = load_pages(candidate.directory, candidate.label)
        if pages.pages:
            pages.notes = notes
            return pages
        notes.append(f"{_show(candidate.directory)} holds no accepted status page")
    raise DemoError("no recorded pages found (" + "; ".join(notes) + "); pass --pages DIR")


def _show(path: Path) -> str:
    """`path` relative to the working directory when it is below or beside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def demo_settings(settings: Settings, data_dir: Path, base_url: str) -> Settings:
    """A demo database in `data_dir`, the spider pointed at the mirror, politeness off for loopback.

    Always SQLite in the demo folder: a TRACKER_DATABASE_URL in the environment (a real
    database) is never written to by the demo.
    """
    return settings.replace(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tracker.sqlite3'}",
        base_urls={**settings.base_urls, "untc": base_url},
        download_delay=0.0,
        concurrent_requests_per_domain=LOOPBACK_CONCURRENCY,
        autothrottle_target_concurrency=float(LOOPBACK_CONCURRENCY),
        retry_times=0,
        download_timeout=min(settings.download_timeout, 30),
    )


def check_port_free(host: str, port: int) -> None:
    """Fail before the crawl, with a clear message, if the service could not listen there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise DemoError(
                f"cannot listen on {host}:{port} ({error.strerror}); pass --port N"
            ) from None


def local_url(host: str, port: int) -> str:
    """The URL a local browser uses (a wildcard listen address is reached on loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def browser_available() -> bool:
    """A graphical browser can be opened: not on a Linux/BSD console without a display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_until_serving(url: str, timeout: float, stop: threading.Event) -> bool:
    """Poll `url`healthz until it answers 200 (True) or `timeout` passes or `stop` is set."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        stop.wait(0.2)
    return False


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM/SIGINT into `_Interrupted` until the service installs its own handlers."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise _Interrupted(signum)

    previous = {s: signal.signal(s, _raise) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _crawl_in_thread(settings: Settings, base_url: str) -> CrawlReport:
    """Crawl in a worker thread so a signal reaches the main thread while the crawl runs."""
    result: dict[str, CrawlReport | BaseException] = {}

    def work() -> None:
        try:
            result["report"] = run_crawl(settings, base_url=base_url, source="untc")
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            result["error"] = error

    worker = threading.Thread(target=work, name="demo-crawl", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except _Interrupted:
        stop_running_crawls(grace=10)  # the crawl subprocess is in its own session
        worker.join(15)
        raise
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    report = result["report"]
    assert isinstance(report, CrawlReport)
    return report


def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    data_dir: Path,
    pages_dir: Path | None,
    open_browser: bool,
    verbose: bool,
    out: TextIO | None = None,
) -> int:
    """Mirror the recorded pages, crawl them once, run the service until SIGTERM/SIGINT
    (`tracker demo`, whose options give every argument its default)."""
    from db.migrate import upgrade
    from tracker.runtime.process import run_service

    out = out or sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    started = time.monotonic()
    check_port_free(host, port)
    pages = find_pages(pages_dir)
    if pages.notes:
        say(f"demo: {'; '.join(pages.notes)}: falling back")
    say(f"demo: serving {len(pages.pages)} pages: {pages.label} ({_show(pages.directory)})")
    if pages.skipped:
        say(
            f"demo: left out {len(pages.skipped)} file(s) that are not accepted status pages: "
            + "; ".join(f"{name} ({reason})" for name, reason in pages.skipped)
        )

    data_dir.mkdir(parents=True, exist_ok=True)
    mirror_dir = data_dir / "mirror"
    shutil.rmtree(mirror_dir, ignore_errors=True)  # rebuilt each time: no stale pages
    mirror = MirrorServer(build_mirror(mirror_dir, untc_site(pages.pages))).start()
    url = local_url(host, port)
    stop_watching = threading.Event()
    phase = "before the service started"
    try:
        demo = demo_settings(settings, data_dir, mirror.base_url)
        if not verbose:  # Scrapy's, uvicorn's and the scheduler's INFO logs would bury the URL
            demo = demo.replace(log_level="WARNING")
        say(f"demo: mirror of treaties.un.org on {mirror.base_url}; database {demo.database_url}")
        with _interruptible():
            upgrade(demo.database_url)
            crawl_started = time.monotonic()
            report = _crawl_in_thread(demo, mirror.base_url)
            say(f"demo: {report.summary()} in {time.monotonic() - crawl_started:.1f} s")
            if report.returncode != 0:
                say("demo: the crawl reported problems; serving what was accepted")

            def announce() -> None:
                if not wait_until_serving(url, 60, stop_watching):
                    if not stop_watching.is_set():
                        say(f"demo: the service did not answer on {url}healthz within 60 s")
                    return
                lines = [
                    f"demo: ready in {time.monotonic() - started:.1f} s",
                    f"  dashboard  {url}",
                    f"  API        {url}api/treaties",
                    f"  OpenAPI    {url}docs",
                ]
                if not verbose:
                    lines.append("  logs       warnings only (--verbose: every crawl and job)")
                lines.append("  Ctrl-C stops the service and the mirror")
                say("\n".join(lines))
                if not open_browser:
                    return
                if not browser_available():
                    say("demo: no display: open the URL above in a browser")
                    return
                try:
                    opened = webbrowser.open(url)
                except Exception:  # noqa: BLE001 (a broken browser setup: the URL is printed)
                    opened = False
                if not opened:
                    say("demo: could not open a browser: open the URL above")

            threading.Thread(target=announce, name="demo-announce", daemon=True).start()
            say(f"demo: starting the service on {url} (API, dashboard, scheduler)")
            phase = "while the service was starting"
            code = run_service(demo, host=host, port=port)
    except _Interrupted as stopped:
        say(f"demo: signal {stopped.signum}: stopped {phase}")
        code = 0
    finally:
        stop_watching.set()
        mirror.stop()
    say("demo: stopped (service and mirror)")
    return code
