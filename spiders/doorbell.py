"""Tell the parent that alerts wait: the dispatcher's doorbell across the crawl's process.

`Doorbell`, a Scrapy extension enabled by the crawl runner (`-s TRACKER_DOORBELL_FD=N`): file
descriptor N is the write end of a pipe whose read end the parent watches. Each time an ingest
commits deliveries (tracker.alerts.wake rings in this process), one byte is written, without
blocking (a full pipe already says so); the parent rings its own doorbell, and its dispatcher
sends them while the crawl goes on (tracker.runtime.crawl_runner).
"""

from __future__ import annotations

import os

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from tracker.alerts.wake import DOORBELL


class Doorbell:
    def __init__(self, crawler: Crawler, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._stop = DOORBELL.listen(self.ring)
        crawler.signals.connect(self.closed, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Doorbell:
        fd = crawler.settings.getint("TRACKER_DOORBELL_FD", -1)
        if fd < 0:
            raise NotConfigured("no doorbell: not started by the tracker's crawl runner")
        return cls(crawler, fd)

    def ring(self) -> None:
        try:
            os.write(self.fd, b"!")
        except BlockingIOError:
            pass  # bytes the parent has not read yet already ring it
        except OSError:  # the parent closed it: nobody to tell
            self._stop()

    def closed(self, *args: object, **kwargs: object) -> None:
        self._stop()
