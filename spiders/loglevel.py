"""Records below every handler's level are never built.

Scrapy sets the root logger's level to NOTSET when it installs its root handler (the handler
alone filters by LOG_LEVEL), so each `log.debug` / `log.info` of a crawl (Scrapy's "Crawled" and
"Scraped from" lines, the pipeline's line per page) builds a LogRecord, finds its caller and
walks the handlers before it is dropped: about 8 us a record, several records a page.
`RootLogLevel` raises the root logger's level, once the engine has started (after Scrapy's last
re-install of its handler), to the lowest level of any installed handler: a record below it
would be dropped by every handler anyway, so what is logged, counted (log_count/*) or written is
the same. A handler without a level (NOTSET: it takes everything) leaves the root level as is;
a NullHandler does not count (it writes nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler


def lowest_handler_level() -> int:
    """The lowest level of any handler of any logger (NOTSET when one takes everything). A
    NullHandler (libraries add one to their logger: alembic, urllib3) writes nothing."""
    loggers = [logging.root] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = [
        h.level for lg in loggers for h in lg.handlers if not isinstance(h, logging.NullHandler)
    ]
    return min(levels) if levels else logging.NOTSET


class RootLogLevel:
    def __init__(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RootLogLevel:
        return cls(crawler)

    def engine_started(self, *args: Any, **kwargs: Any) -> None:
        level = lowest_handler_level()
        if level > logging.root.level:
            logging.root.setLevel(level)


__all__ = ["RootLogLevel", "lowest_handler_level"]
