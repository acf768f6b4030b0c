"""The crawl never outlives the process that started it (tracker/crawl.py).

`Lifeline`, a Scrapy extension enabled by the crawl runner (`-s TRACKER_LIFELINE_FD=N`): file
descriptor N is the read end of a pipe whose only write end stays in the parent. Nothing is ever
written to it, so a read returns only at EOF, which is when the parent has died (even by
SIGKILL: the kernel closes its descriptors). Then the crawl stops itself cleanly (as on SIGTERM:
in-flight pages are finished, the pipeline records the crawl as stopped) and, if that has not
ended the process within `TRACKER_LIFELINE_GRACE` seconds, exits hard. An orphan also removes the
parent's temporary directory (`TRACKER_CRAWL_TMPDIR`), which nobody else would.

`stop_reason(crawler)` tells the pipeline whether the crawl was stopped before its end.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

log = logging.getLogger(__name__)

STOPPED_STAT = "tracker/stopped"
ORPHAN_REASON = "the process that started the crawl is gone"
HARD_EXIT_STATUS = 70


def stop_reason(crawler: Crawler) -> str | None:
    """Why the crawl was stopped before its end (None: it ran to its end).

    Scrapy clears `crawler.crawling` when it is asked to stop (SIGTERM, SIGINT, the lifeline)
    before the item pipelines are closed; a crawl that ends by itself closes them first.
    """
    reason = crawler.stats.get_value(STOPPED_STAT) if crawler.stats is not None else None
    if reason:
        return str(reason)
    if not crawler.crawling:
        return "stopped before its end (shutdown requested)"
    return None


class Lifeline:
    """Watch the parent's pipe; stop the crawl when the parent is gone (see the module)."""

    def __init__(self, crawler: Crawler, fd: int, grace: float, tmp_dir: str | None) -> None:
        self.crawler = crawler
        self.fd = fd
        self.grace = grace
        self.tmp_dir = tmp_dir
        self.orphaned = threading.Event()
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        self._thread = threading.Thread(target=self._watch, name="lifeline", daemon=True)
        self._thread.start()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Lifeline:
        fd = crawler.settings.getint("TRACKER_LIFELINE_FD", -1)
        if fd < 0:
            raise NotConfigured("no lifeline: not started by the tracker's crawl runner")
        grace = crawler.settings.getfloat("TRACKER_LIFELINE_GRACE", 30.0)
        return cls(crawler, fd, grace, crawler.settings.get("TRACKER_CRAWL_TMPDIR") or None)

    def _watch(self) -> None:
        try:
            while os.read(self.fd, 1):
                pass  # nothing is written; data would be a mistake, not a reason to stop
        except OSError as error:
            log.error("lifeline: cannot watch the parent (fd %d): %s", self.fd, error)
            return
        self.orphaned.set()
        self.crawler.stats.set_value(STOPPED_STAT, ORPHAN_REASON)
        from twisted.internet import reactor

        reactor.callFromThread(self._stop)  # type: ignore[attr-defined]
        time.sleep(self.grace)
        log.error(
            "lifeline: the crawl did not stop within %g s of its parent's end: exiting now",
            self.grace,
        )
        self._remove_tmp_dir()
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(HARD_EXIT_STATUS)

    def _stop(self) -> None:
        log.warning("lifeline: %s: stopping the crawl", ORPHAN_REASON)
        if self.crawler.crawling:
            deferred_from_coro(self.crawler.stop_async())

    def engine_stopped(self, *args: Any, **kwargs: Any) -> None:
        if self.orphaned.is_set():
            self._remove_tmp_dir()

    def _remove_tmp_dir(self) -> None:
        if self.tmp_dir and os.path.basename(self.tmp_dir).startswith("tracker-crawl-"):
            shutil.rmtree(self.tmp_dir, ignore_errors=True)


__all__ = ["ORPHAN_REASON", "STOPPED_STAT", "Lifeline", "stop_reason"]
