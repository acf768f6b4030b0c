"""One crawl per source at a time, and no orphan: a lock-and-pid file per source in the data dir.

`data_dir/crawl-<source>.pid` is held with an exclusive `flock` by the process that runs a crawl
of that source (`tracker crawl`, or `tracker run`'s crawl job) for the crawl's whole life, and
holds a JSON record of the crawl subprocess: its pid, its start time in clock ticks since boot
(`/proc/<pid>/stat` field 22) and the boot id, so a pid reused by another process, or seen after
a reboot, is never taken for the crawl. The kernel drops the `flock` when its holder dies, so a
process that takes the lock and finds a record left in the file is looking at the crawl of a
parent that died (SIGKILL, crash): if that exact process still runs, it is an orphan and is
stopped (SIGTERM, then SIGKILL after a grace period) before a new crawl starts. The file is
never deleted (deleting a locked file races with the next holder); an empty file means no crawl.

Linux only (/proc); elsewhere nothing is identified and nothing is ever killed. Identifying a
process and signalling only it is tracker.runtime.pids.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from tracker.runtime.locks import lock_file, unlock_file
from tracker.runtime.pids import ProcessId, stop_process

log = logging.getLogger("tracker.crawl")

# An orphan has had its chance to stop cleanly (its lifeline): SIGKILL it this soon after SIGTERM.
ORPHAN_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class CrawlRecord:
    """What the pid file says of a crawl: its subprocess and who started it, when."""

    source: str
    pid: int
    start_ticks: int
    boot_id: str | None
    parent_pid: int
    started_at: str
    tmp_dir: str | None = None  # the crawl's temporary directory (its parent's to remove)

    @property
    def process(self) -> ProcessId:
        return ProcessId(self.pid, self.start_ticks, self.boot_id)

    def describe(self) -> str:
        return f"pid {self.pid}, started at {self.started_at} by pid {self.parent_pid}"


class CrawlGuard:
    """The lock-and-pid file of one source (see the module's docstring)."""

    def __init__(self, data_dir: Path, source: str) -> None:
        self.source = source
        self.path = data_dir / f"crawl-{source}.pid"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when a live process holds it (a crawl runs)."""
        if self._fd is None:
            self._fd = lock_file(self.path)
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        unlock_file(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def read(self) -> CrawlRecord | None:
        """The record in the file (None: empty or unreadable). Needs no lock."""
        try:
            text = self.path.read_text()
        except OSError:
            return None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
            return CrawlRecord(
                source=str(data["source"]),
                pid=int(data["pid"]),
                start_ticks=int(data["start_ticks"]),
                boot_id=data.get("boot_id"),
                parent_pid=int(data.get("parent_pid", 0)),
                started_at=str(data.get("started_at", "")),
                tmp_dir=data.get("tmp_dir") or None,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def _write(self, text: str) -> None:
        assert self._fd is not None, "write the record only while holding the lock"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)
        os.fsync(self._fd)

    def record(self, pid: int, tmp_dir: str | None = None) -> CrawlRecord | None:
        """Note the crawl subprocess `pid` (just started by this process) and its temporary
        directory (removed by whoever finds the crawl orphaned)."""
        process = ProcessId.of(pid)
        if process is None:  # exited already (or no /proc): nothing that could be orphaned
            return None
        record = CrawlRecord(
            source=self.source,
            pid=pid,
            start_ticks=process.start_ticks,
            boot_id=process.boot_id,
            parent_pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            tmp_dir=tmp_dir,
        )
        self._write(json.dumps(asdict(record), sort_keys=True) + "\n")
        return record

    def clear(self) -> None:
        if self._fd is not None:
            self._write("")

    def stop_orphan(self, grace: float = ORPHAN_GRACE_SECONDS) -> CrawlRecord | None:
        """With the lock held: stop the crawl a dead holder left running; return its record if
        one was running (and is now stopped). A stale record (that process is gone, or its pid
        now belongs to another process) is cleared and nothing is signalled."""
        assert self._fd is not None, "look for an orphan only while holding the lock"
        record = self.read()
        if record is None:
            self.clear()
            return None
        if record.pid == os.getpid() or not record.process.alive():
            _remove_tmp_dir(record)  # left by a crawl that was killed with its parent
            self.clear()
            return None
        group = record.process.process_group()
        log.warning(
            "crawl %s: an orphaned crawl is still running (%s): stopping it",
            self.source,
            record.describe(),
            extra={"event": "orphan_crawl", "source": self.source, "pid": record.pid},
        )
        gone = stop_process(record.process, grace)
        if not gone:
            raise OrphanSurvived(
                f"crawl {self.source}: the orphaned crawl (pid {record.pid}) did not stop"
            )
        log.info(
            "crawl %s: stopped the orphaned crawl (pid %d, process group %s)",
            self.source,
            record.pid,
            group,
            extra={"event": "orphan_crawl_stopped", "source": self.source, "pid": record.pid},
        )
        _remove_tmp_dir(record)
        self.clear()
        return record


def _remove_tmp_dir(record: CrawlRecord) -> None:
    """The dead parent's temporary directory for that crawl (only one of ours, by its name)."""
    if record.tmp_dir and Path(record.tmp_dir).name.startswith("tracker-crawl-"):
        shutil.rmtree(record.tmp_dir, ignore_errors=True)


class OrphanSurvived(RuntimeError):
    """An orphaned crawl could not be stopped (not even by SIGKILL): no new crawl starts."""


def stop_orphaned_crawls(
    data_dir: Path, sources: tuple[str, ...], grace: float = ORPHAN_GRACE_SECONDS
) -> list[str]:
    """For each source whose lock is free: stop the orphaned crawl its file names, if any.
    Returns the sources whose orphan was stopped (`tracker run`, on taking the scheduler)."""
    stopped = []
    for source in sources:
        with CrawlGuard(data_dir, source) as guard:
            if not guard.acquire():  # a live process is crawling it: not an orphan
                continue
            try:
                if guard.stop_orphan(grace) is not None:
                    stopped.append(source)
            except OrphanSurvived as error:
                log.error("%s", error, extra={"event": "orphan_crawl", "source": source})
    return stopped


__all__ = [
    "ORPHAN_GRACE_SECONDS",
    "CrawlGuard",
    "CrawlRecord",
    "OrphanSurvived",
    "stop_orphaned_crawls",
]
