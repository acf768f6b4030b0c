"""`tracker demo`: the whole system on one machine with no internet, on recorded pages.

For every registered source (tracker.sources.registry), serves its recorded status pages on
loopback (a `tracker.devtools.mirror` built by the source's own `tracker.sources.<slug>.mirror`),
crawls each source's mirror once into a demo SQLite database with politeness relaxed for
loopback, then runs the service (HTTP API, dashboard, scheduler) on it until SIGTERM or Ctrl-C,
and opens the dashboard in a browser when one is available.

Each source's recorded pages are found in this order: `--pages DIR` (pages of any source, each
file given to the source whose parser accepts it); the real captures in `../shared/fixtures/real/`
beside the clone (the folder its mirror module names; never copied into the repository); the
project's own small, illustrative fixtures in `tests/fixtures/<slug>/`. A source with no pages
gets an empty mirror (so the service's scheduled crawls never reach the real site) and no crawl.

Over 300 lines on purpose: one command, its page search, mirrors, crawls and service in one
place a developer reads top to bottom.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import TextIO
from urllib.parse import urlsplit

from tracker.devtools.mirror import MirrorServer, build_mirror
from tracker.devtools.paths import REAL, ROOT
from tracker.runtime.crawl_report import CrawlReport
from tracker.runtime.crawl_runner import run_crawl, stop_running_crawls
from tracker.settings import Settings
from tracker.sources import registry

FIXTURES = ROOT / "tests" / "fixtures"
LOOPBACK_CONCURRENCY = 8


class DemoError(Exception):
    """Something the user can fix (no pages, port in use): one line, exit 2."""


@dataclass(frozen=True)
class Candidate:
    """A place where recorded pages may be, and how to describe them."""

    directory: Path
    label: str


@dataclass(frozen=True)
class RecordedPage:
    """A status page a source's parser accepted: its treaty id, bytes and title."""

    treaty_id: str
    body: bytes
    title: str


@dataclass
class PageSet:
    """The pages the demo serves for one source, and the files left out with why."""

    slug: str
    directory: Path
    label: str
    pages: list[RecordedPage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def mirror_module(slug: str) -> ModuleType:
    """The source's mirror module (`tracker.sources.<slug>.mirror`): `demo_site(pages)`, the
    folders of its recorded pages (`RECORDED_FOLDER` under the real captures, `FIXTURES_FOLDER`
    under tests/fixtures) and whether its catalogue is made of its pages
    (`CATALOGUE_FROM_PAGES`)."""
    return importlib.import_module(f"tracker.sources.{slug}.mirror")


def default_candidates(slug: str) -> tuple[Candidate, ...]:
    """Where a source's recorded pages may be: the real captures, then the project's fixtures."""
    mirror = mirror_module(slug)
    return (
        Candidate(REAL / mirror.RECORDED_FOLDER, mirror.RECORDED_LABEL),
        Candidate(
            FIXTURES / mirror.FIXTURES_FOLDER,
            f"the project's small hand-written {slug} fixtures (illustrative rows and dates, "
            "not real statuses)",
        ),
    )


def _accepts(slug: str, body: bytes, path: Path) -> RecordedPage | str:
    """The page as `slug`'s parser reads it, or the reason it refuses it."""
    from tracker.sources import PageRejected, parse

    try:
        status = parse(slug, body, url=path.resolve().as_uri())
    except PageRejected as rejected:
        return rejected.reason
    return RecordedPage(status.treaty_id, body, status.title)


def _add(found: PageSet, seen: dict[str, str], path: Path, page: RecordedPage) -> None:
    if page.treaty_id in seen:
        found.skipped.append((path.name, f"{page.treaty_id} again (see {seen[page.treaty_id]})"))
        return
    seen[page.treaty_id] = path.name
    found.pages.append(page)


def load_pages(slug: str, directory: Path, label: str) -> PageSet:
    """Every `*.html` status page in `directory` that `slug`'s parser accepts, by its treaty id.

    A page the parser rejects (maintenance page, counts that disagree...) would be quarantined by
    the crawl and mark the source unhealthy, so it is left out of the mirror and reported.
    """
    found = PageSet(slug, directory, label)
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.html")):
        page = _accepts(slug, path.read_bytes(), path)
        if isinstance(page, str):
            found.skipped.append((path.name, page))
        else:
            _add(found, seen, path, page)
    return found


def load_any(directory: Path, label: str) -> list[PageSet]:
    """`--pages DIR`: each `*.html` file goes to the first registered source whose parser
    accepts it; a file no parser accepts is left out with every source's reason (reported with
    the first source's pages)."""
    slugs = registry.slugs()
    sets = {slug: PageSet(slug, directory, label) for slug in slugs}
    seen: dict[str, dict[str, str]] = {slug: {} for slug in slugs}
    for path in sorted(directory.glob("*.html")):
        body = path.read_bytes()
        reasons = []
        for slug in slugs:
            page = _accepts(slug, body, path)
            if isinstance(page, RecordedPage):
                _add(sets[slug], seen[slug], path, page)
                break
            reasons.append(f"{slug}: {page}")
        else:
            sets[slugs[0]].skipped.append((path.name, "; ".join(reasons)))
    return list(sets.values())


def find_pages(
    explicit: Path | None,
    candidates: Mapping[str, Sequence[Candidate]] | None = None,
) -> list[PageSet]:
    """One PageSet per registered source: the pages of `--pages DIR` (each file to the source
    that accepts it; a source with none there looks in its own places), else each source's
    first candidate folder that holds status pages (none found: an empty set whose notes say
    where it looked). DemoError when no source has any (in DIR: when DIR has none)."""
    if explicit is not None:
        if not explicit.is_dir():
            raise DemoError(f"--pages {explicit}: no such directory")
        sets = load_any(explicit, "the pages given by --pages")
        if not any(s.pages for s in sets):
            raise DemoError(
                f"--pages {explicit}: no status page that a source's parser accepts "
                f"({', '.join(registry.slugs())})"
            )
        found_sets = []
        for found in sets:
            places = _places(found.slug, candidates)
            if not found.pages:  # none of its pages in DIR: its own places, as without --pages
                fallback = _first_with_pages(found.slug, places)
                fallback.notes.insert(0, f"no {found.slug} page in {_show(explicit)}")
                found_sets.append(fallback)
                continue
            for candidate in places:
                if candidate.directory.resolve() == explicit.resolve():
                    found.label = candidate.label
            found_sets.append(found)
        return found_sets
    sets = [_first_with_pages(slug, _places(slug, candidates)) for slug in registry.slugs()]
    if not any(s.pages for s in sets):
        notes = "; ".join(note for s in sets for note in s.notes)
        raise DemoError(f"no recorded pages found ({notes}); pass --pages DIR")
    return sets


def _places(slug: str, candidates: Mapping[str, Sequence[Candidate]] | None) -> Sequence[Candidate]:
    """Where `slug`'s pages are looked for: the given candidates, else its defaults."""
    given = (candidates or {}).get(slug)
    return default_candidates(slug) if given is None else given


def _first_with_pages(slug: str, candidates: Sequence[Candidate]) -> PageSet:
    notes = []
    for candidate in candidates:
        if not candidate.directory.is_dir():
            notes.append(f"{_show(candidate.directory)} is absent")
            continue
        pages = load_pages(slug, candidate.directory, candidate.label)
        if pages.pages:
            pages.notes = notes
            return pages
        notes.append(f"{_show(candidate.directory)} holds no accepted {slug} status page")
    return PageSet(slug, Path(), f"no recorded {slug} pages", notes=notes)


def _show(path: Path) -> str:
    """`path` relative to the working directory when it is below or beside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def demo_settings(settings: Settings, data_dir: Path, base_urls: Mapping[str, str]) -> Settings:
    """A demo database in `data_dir`, every source's spider pointed at its mirror, politeness
    off for loopback.

    Always SQLite in the demo folder: a TRACKER_DATABASE_URL in the environment (a real
    database) is never written to by the demo.
    """
    return settings.replace(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tracker.sqlite3'}",
        base_urls={**settings.base_urls, **base_urls},
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


def _crawl_in_thread(settings: Settings, base_url: str, found: PageSet) -> CrawlReport:
    """Crawl one source's mirror in a worker thread, so a signal reaches the main thread while
    the crawl runs: its whole catalogue when the mirror's catalogue pages list exactly its
    pages (`CATALOGUE_FROM_PAGES`), else the treaties it has pages for."""
    result: dict[str, CrawlReport | BaseException] = {}
    slug = found.slug
    whole = mirror_module(slug).CATALOGUE_FROM_PAGES
    treaties = None if whole else [p.treaty_id for p in found.pages]

    def work() -> None:
        try:
            result["report"] = run_crawl(
                settings, treaties=treaties, base_url=base_url, source=slug
            )
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            result["error"] = error

    worker = threading.Thread(target=work, name=f"demo-crawl-{slug}", daemon=True)
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


def _site_host(slug: str) -> str:
    """The real site a source's mirror stands in for (treaties.un.org, www.wipo.int)."""
    return urlsplit(registry.get(slug).default_base_url).netloc


def _start_mirrors(
    stack: ExitStack, mirror_dir: Path, sets: Sequence[PageSet]
) -> dict[str, MirrorServer]:
    """One loopback mirror per source, built by its mirror module (empty without pages)."""
    servers = {}
    for found in sets:
        site = mirror_module(found.slug).demo_site(
            (p.treaty_id, p.body, p.title) for p in found.pages
        )
        server = MirrorServer(build_mirror(mirror_dir / found.slug, site)).start()
        stack.callback(server.stop)
        servers[found.slug] = server
    return servers


def _describe(sets: Sequence[PageSet], say: Callable[[str], None]) -> None:
    for found in sets:
        if not found.pages:
            say(f"demo: {found.slug}: no recorded pages ({'; '.join(found.notes)}): not crawled")
            continue
        if found.notes:
            say(f"demo: {found.slug}: {'; '.join(found.notes)}: falling back")
        say(
            f"demo: {found.slug}: serving {len(found.pages)} pages: {found.label} "
            f"({_show(found.directory)})"
        )
        if found.skipped:
            say(
                f"demo: {found.slug}: left out {len(found.skipped)} file(s) that are not "
                "accepted status pages: "
                + "; ".join(f"{name} ({reason})" for name, reason in found.skipped)
            )


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
    sets = find_pages(pages_dir)
    _describe(sets, say)

    data_dir.mkdir(parents=True, exist_ok=True)
    mirror_dir = data_dir / "mirror"
    shutil.rmtree(mirror_dir, ignore_errors=True)  # rebuilt each time: no stale pages
    url = local_url(host, port)
    stop_watching = threading.Event()
    phase = "before the service started"
    stack = ExitStack()
    try:
        mirrors = _start_mirrors(stack, mirror_dir, sets)
        demo = demo_settings(settings, data_dir, {s: m.base_url for s, m in mirrors.items()})
        if not verbose:  # Scrapy's, uvicorn's and the scheduler's INFO logs would bury the URL
            demo = demo.replace(log_level="WARNING")
        for slug, mirror in mirrors.items():
            say(f"demo: mirror of {slug} ({_site_host(slug)}) on {mirror.base_url}")
        say(f"demo: database {demo.database_url}")
        with _interruptible():
            upgrade(demo.database_url)
            for found in sets:
                if not found.pages:
                    continue
                crawl_started = time.monotonic()
                report = _crawl_in_thread(demo, mirrors[found.slug].base_url, found)
                say(f"demo: {report.summary()} in {time.monotonic() - crawl_started:.1f} s")
                if report.returncode != 0:
                    say(
                        f"demo: the {found.slug} crawl reported problems; serving what was accepted"
                    )

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
                lines.append("  Ctrl-C stops the service and the mirrors")
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
        stack.close()  # every mirror
    say("demo: stopped (service and mirrors)")
    return code
