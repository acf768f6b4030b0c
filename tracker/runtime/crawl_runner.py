"""Run a crawl: `scrapy crawl <slug>` in a subprocess (Twisted's reactor cannot restart in-process).

The subprocess (`python -m spiders.child`, Scrapy with the tracker's log format) runs in its own
session and process group. It never outlives the process that started it:

- stopped on purpose (`tracker crawl` got SIGTERM, SIGINT or SIGHUP; the service shuts down or
  steps down as leader; the crawl timed out): its group gets SIGTERM, Scrapy closes cleanly
  (the pipeline records the crawl as stopped: neither a success nor a failure), SIGKILL after
  `STOP_GRACE_SECONDS`; a second signal to `tracker crawl` kills it at once;
- the parent dies (even by SIGKILL): the child holds the read end of a pipe whose only write end
  is the parent's; at EOF it stops itself (spiders/lifeline.py), hard after the same grace;
- `tracker run` restarted after a SIGKILL finds an orphan left running through the source's
  lock-and-pid file (tracker/runtime/crawl_guard.py) and stops it before it crawls again.

While it runs, the child rings the dispatcher's doorbell of this process through a second pipe
each time it commits deliveries (spiders/doorbell.py, tracker.alerts.wake), so alerts go out
during the crawl rather than at the dispatcher's next poll.

The temporary directory (the crawl's summary file) is removed in every case but the parent's
SIGKILL, where the orphaned child removes it as it stops.

What the crawl did, and recording a crawl that could not record itself, is
tracker.runtime.crawl_report. Running and stopping the child are one idea here (the child's
life: started, waited for, stopped however its parent stops), hence one module.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from tracker.alerts.wake import DOORBELL
from tracker.runtime.crawl_guard import CrawlGuard, OrphanSurvived
from tracker.runtime.crawl_report import EX_TEMPFAIL, CrawlReport, crawl_ok
from tracker.settings import Settings
from tracker.sources import registry

STOP_GRACE_SECONDS = 30.0  # a stopped crawl's time to close cleanly before SIGKILL
POLL_SECONDS = 0.2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

_RUNNING: set[subprocess.Popen[bytes]] = set()
_STOPPED: dict[subprocess.Popen[bytes], str] = {}  # crawls stopped on purpose, and why
_LOCK = threading.Lock()


class StopRequest:
    """Signals received by `tracker crawl` (installed by `stop_on_signals`): the first stops the
    crawl cleanly, a second one kills it."""

    def __init__(self) -> None:
        self.signals: list[int] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)  # nothing else here: the crawl's wait loop acts on it

    @property
    def signum(self) -> int | None:
        return self.signals[0] if self.signals else None

    @property
    def forced(self) -> bool:
        return len(self.signals) > 1


_REQUESTS: list[StopRequest] = []


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """While in the block, SIGTERM / SIGINT / SIGHUP stop the running crawl (main thread only):
    `run_crawl` then returns a report that says it was stopped (exit status 128 + signal)."""
    request = StopRequest()
    previous = {s: signal.signal(s, request) for s in STOP_SIGNALS}
    _REQUESTS.append(request)
    try:
        yield request
    finally:
        _REQUESTS.remove(request)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _requested() -> StopRequest | None:
    return next((r for r in _REQUESTS if r.signum is not None), None)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)


def _stop(
    proc: subprocess.Popen[bytes],
    grace: float | None = None,
    reason: str | None = None,
    force: StopRequest | None = None,
) -> None:
    """SIGTERM the crawl's process group (Scrapy closes cleanly), SIGKILL after `grace` seconds
    (or at once when `force` receives a second signal). `reason`: stopped on purpose (not a
    failure of the source); None: a timeout."""
    grace = STOP_GRACE_SECONDS if grace is None else grace
    if proc.poll() is not None:  # ended by itself meanwhile: nothing to stop
        return
    if reason is not None:
        with _LOCK:
            _STOPPED.setdefault(proc, reason)
    _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while True:
        try:
            proc.wait(timeout=POLL_SECONDS)
            return
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline or (force is not None and force.forced):
            break
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def stop_running_crawls(grace: float | None = None, reason: str = "the service stopping") -> int:
    """Stop every crawl subprocess this process started (service shutdown); return how many."""
    running = list(_RUNNING)
    for proc in running:
        _stop(proc, grace, reason)
        _RUNNING.discard(proc)  # stopped: a second call (leader step-down, then exit) skips it
    return len(running)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _command(
    source: str,
    summary_file: Path,
    lifeline: int,
    tmp: str,
    treaties: list[str] | None,
    fmt: str,
    doorbell: int,
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "spiders.child",
        "crawl",
        source,
        "-s",
        f"TRACKER_SUMMARY_FILE={summary_file}",
        "-s",
        f"TRACKER_LIFELINE_FD={lifeline}",
        "-s",
        f"TRACKER_LIFELINE_GRACE={STOP_GRACE_SECONDS}",
        "-s",
        f"TRACKER_CRAWL_TMPDIR={tmp}",
        "-s",
        f"TRACKER_DOORBELL_FD={doorbell}",
    ]
    if treaties:
        cmd += ["-a", "treaty=" + ",".join(treaties)]
    if fmt != registry.get(source).formats[0]:  # the spider's default is the source's
        cmd += ["-a", f"format={fmt}"]
    return cmd


def _wait(proc: subprocess.Popen[bytes], timeout: float, bell: int | None) -> tuple[int, bool]:
    """Wait for the crawl, acting on stop requests, ringing the dispatcher's doorbell when the
    crawl says it committed deliveries (`bell`, the read end of its pipe); returns (returncode,
    timed out)."""
    deadline = time.monotonic() + timeout
    while True:
        if bell is not None:
            ready, _, _ = select.select([bell], [], [], POLL_SECONDS)
            if ready:
                if os.read(bell, 4096):
                    DOORBELL.ring()
                else:  # the crawl closed it (it ended): wait for it as before
                    bell = None
            returncode = proc.poll()
            if returncode is not None:
                return returncode, False
        else:
            try:
                return proc.wait(timeout=POLL_SECONDS), False
            except subprocess.TimeoutExpired:
                pass
        request = _requested()
        if request is not None and request.signum is not None:
            _stop(proc, reason=_signal_name(request.signum), force=request)
        elif time.monotonic() >= deadline:
            _stop(proc)
            return proc.wait(), True


def run_crawl(
    settings: Settings,
    *,
    treaties: list[str] | None = None,
    base_url: str | None = None,
    source: str | None = None,
    fmt: str | None = None,
) -> CrawlReport:
    """Crawl `source` (all its catalogue, or the given treaties) into the database.

    `source` None: the only registered source (ValueError when there are several). A slug no
    source has raises UnknownSource, a malformed treaty id the source's ValueError, a format
    its pages do not come in a ValueError, all before any work starts. `fmt`: the status
    pages' format, one of the source's `formats` (None: its default, the first); what a page
    in another format than its treaty's history does is tracker.services.format_check."""
    source = source if source is not None else only_source()
    spec = registry.get(source)
    fmt = fmt or spec.formats[0]
    if fmt not in spec.formats:
        raise ValueError(f"{source} pages come in {', '.join(spec.formats)}, not {fmt}")
    for treaty in treaties or []:
        spec.check_id(treaty)
    settings.ensure_data_dir()
    with CrawlGuard(settings.data_dir, source) as guard:
        if not guard.acquire():
            running = guard.read()
            return CrawlReport(
                returncode=EX_TEMPFAIL,
                error=f"a crawl of {source} is already running"
                + (f" ({running.describe()})" if running else ""),
                stopped="another crawl of the source is running",
            )
        try:
            guard.stop_orphan()
        except OrphanSurvived as error:
            return CrawlReport(returncode=1, error=str(error))
        return _run(settings, guard, treaties, base_url, source, fmt)


def _run(
    settings: Settings,
    guard: CrawlGuard,
    treaties: list[str] | None,
    base_url: str | None,
    source: str,
    fmt: str,
) -> CrawlReport:
    request = _requested()
    if request is not None and request.signum is not None:  # a signal before the crawl began
        name = _signal_name(request.signum)
        return CrawlReport(128 + request.signum, {"source": source}, f"stopped by {name}", name)
    with tempfile.TemporaryDirectory(prefix="tracker-crawl-") as tmp:
        summary_file = Path(tmp) / "summary.json"
        extra = {"SCRAPY_SETTINGS_MODULE": "spiders.settings"}
        if base_url:
            urls = {**settings.base_urls, source: base_url.rstrip("/")}
            extra["TRACKER_BASE_URLS"] = json.dumps(urls, sort_keys=True)
        lifeline, keep_alive = os.pipe()  # the child reads; only this process can write
        bell, ringer = os.pipe()  # the child writes when it committed deliveries; we read
        try:
            proc = subprocess.Popen(
                _command(source, summary_file, lifeline, tmp, treaties, fmt, ringer),
                env=settings.child_env(**extra),
                start_new_session=True,
                pass_fds=(lifeline, ringer),
            )
        except BaseException:
            os.close(keep_alive)
            os.close(bell)
            raise
        finally:
            os.close(lifeline)
            os.close(ringer)
        _RUNNING.add(proc)
        try:
            guard.record(proc.pid, tmp)
            returncode, timed_out = _wait(proc, settings.crawl_timeout, bell)
        except BaseException:  # KeyboardInterrupt, a bug: never leave the crawl running
            _stop(proc, reason="interrupted")
            raise
        finally:
            _RUNNING.discard(proc)
            os.close(keep_alive)
            os.close(bell)
            guard.clear()
            with _LOCK:
                stopped = _STOPPED.pop(proc, None)
        stats = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    if stopped is not None:
        signum = next((s for s in STOP_SIGNALS if s.name == stopped), signal.SIGTERM)
        stats.setdefault("source", source)
        return CrawlReport(128 + signum, stats, f"stopped by {stopped}", stopped)
    if timed_out:
        return CrawlReport(124, stats, f"timed out after {settings.crawl_timeout:g}s")
    if returncode < 0:  # the child died of a signal: exit as a shell would (128 + signal)
        why = f"the crawl child died of signal {_signal_name(-returncode)}"
        return CrawlReport(128 - returncode, stats, why)
    if not stats:
        return CrawlReport(returncode or 1, error=f"scrapy exited with status {returncode}")
    return CrawlReport(returncode=returncode or (0 if crawl_ok(stats) else 1), stats=stats)


def only_source() -> str:
    """The slug of the only registered source (ValueError, naming them, when there are more)."""
    found = registry.slugs()
    if len(found) != 1:
        raise ValueError(f"several sources are registered ({', '.join(found)}): name one")
    return found[0]
