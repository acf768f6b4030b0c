"""The crawl subprocess: `python -m spiders.child crawl untc ...` is `scrapy crawl` in the
tracker's log format (tracker/crawl.py starts it).

Under `TRACKER_LOG_FORMAT=json` (what `tracker run` passes to its crawls) every line the process
writes is one JSON object (tracker.runtime.logs.JsonFormatter), so every line of the service's output is
JSON: Scrapy's and Twisted's log records and Python warnings go through one root handler
(spiders/settings.py tells Scrapy not to install its own), an uncaught exception in any thread is
logged with its traceback, and anything printed to stdout or stderr is logged line by line. In
text mode (the default of `tracker crawl`) this is plain `scrapy`.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Sequence
from types import TracebackType

from tracker.runtime.logs import configure_logging
from tracker.settings import Settings

log = logging.getLogger("tracker.crawl")


class LineLogger(io.TextIOBase):
    """A text stream that logs each line it is given (stray prints, usage messages)."""

    def __init__(self, logger: logging.Logger, level: int, fallback: io.TextIOBase) -> None:
        self.logger = logger
        self.level = level
        self.fallback = fallback
        self._buffer = ""
        self._busy = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if getattr(self._busy, "on", False):  # logging itself failed and reports on stderr
            return self.fallback.write(text)
        self._busy.on = True
        try:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
            for line in lines:
                if line.strip():
                    self.logger.log(self.level, "%s", line.rstrip("\r"))
        finally:
            self._busy.on = False
        return len(text)

    def flush(self) -> None:
        if self._buffer.strip() and not getattr(self._busy, "on", False):
            line, self._buffer = self._buffer, ""
            self.write(line + "\n")
        self.fallback.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        log.warning("crawl interrupted")
        return
    log.critical("crawl crashed: %s: %s", kind.__name__, value, exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    log.critical(
        "thread %s crashed: %s: %s",
        args.thread.name if args.thread else "?",
        args.exc_type.__name__,
        args.exc_value,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )


def json_logging(level: str) -> None:
    """Route everything this process writes through one JSON handler on the real stderr."""
    stderr, stdout = sys.stderr, sys.stdout
    configure_logging("json", level, stderr)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    sys.stdout = LineLogger(logging.getLogger("stdout"), logging.INFO, stdout)  # type: ignore[assignment]
    sys.stderr = LineLogger(logging.getLogger("stderr"), logging.WARNING, stderr)  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> None:
    settings = Settings.from_env()
    if settings.log_format == "json":
        json_logging(settings.log_level)
    from scrapy.cmdline import execute

    execute(["scrapy", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
