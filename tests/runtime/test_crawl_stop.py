"""Stopping running crawl subprocesses at shutdown: each once, however many callers ask."""

from __future__ import annotations

import subprocess
import sys

from tracker.runtime import crawl_runner as crawl


def test_a_stopped_crawl_is_not_stopped_again():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    crawl._RUNNING.add(proc)
    try:
        assert crawl.stop_running_crawls(grace=5) == 1
        assert proc.returncode is not None  # ended by SIGTERM
        assert crawl.stop_running_crawls(grace=5) == 0  # the leader stepped down already
    finally:
        crawl._RUNNING.discard(proc)
        if proc.poll() is None:
            proc.kill()
