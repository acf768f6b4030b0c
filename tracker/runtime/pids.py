"""A process as the kernel knows it (pid, start time in clock ticks since boot, boot id), and
signalling exactly that process, never another one that reuses its pid (pidfd where there is).

Linux only (/proc); elsewhere no process is identified and none is ever signalled. Used by the
crawl's lock-and-pid file (tracker.runtime.crawl_guard) to find and stop an orphaned crawl.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
BOOT_ID = PROC / "sys" / "kernel" / "random" / "boot_id"


def _boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class ProcessId:
    """A process as it is known to the kernel: pid, start time (clock ticks since boot), boot."""

    pid: int
    start_ticks: int
    boot_id: str | None

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The process running as `pid` now (None: no such process, or a zombie)."""
        stat = _stat(pid)
        if stat is None or stat["state"] in ("Z", "X"):
            return None
        return cls(pid, stat["start_ticks"], _boot_id())

    def alive(self) -> bool:
        """This very process still runs (not merely a process with the same pid)."""
        return self.boot_id is not None and ProcessId.of(self.pid) == self

    def process_group(self) -> int | None:
        stat = _stat(self.pid)
        return stat["pgrp"] if stat is not None else None


def _stat(pid: int) -> dict[str, Any] | None:
    """Fields of /proc/<pid>/stat (the command name may hold spaces and parentheses)."""
    if pid <= 0:
        return None
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    try:
        fields = raw[raw.rindex(")") + 2 :].split()
        return {
            "state": fields[0],
            "ppid": int(fields[1]),
            "pgrp": int(fields[2]),
            "start_ticks": int(fields[19]),
        }
    except (ValueError, IndexError):
        return None


def _signal(process: ProcessId, signum: int) -> bool:
    """Send `signum` to `process` only if it is still that process (pidfd: no race with reuse)."""
    opener = getattr(os, "pidfd_open", None)
    sender = getattr(signal, "pidfd_send_signal", None)
    if opener is not None and sender is not None:
        try:
            fd = opener(process.pid)
        except OSError:
            return False
        try:
            if not process.alive():  # the pidfd pins the process we just verified
                return False
            sender(fd, signum)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)
    if not process.alive():
        return False
    try:
        os.kill(process.pid, signum)
    except OSError:
        return False
    return True


def stop_process(process: ProcessId, grace: float) -> bool:
    """SIGTERM `process` (not our child: we cannot wait for it), SIGKILL after `grace` s.
    Returns whether it is gone."""
    if not _signal(process, signal.SIGTERM):
        return not process.alive()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not process.alive():
            return True
        time.sleep(0.1)
    _signal(process, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not process.alive():
            return True
        time.sleep(0.05)
    return not process.alive()
