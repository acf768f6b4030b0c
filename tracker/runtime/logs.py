"""Logging for the service: one JSON object per line (`TRACKER_LOG_FORMAT=json`) or text.

A JSON record has `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, the
fields passed with `extra=` (e.g. a crawl's pages, accepted, quarantined, unchanged, failed and
events), and `exception` when there is one. Standard library only.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName", "color_message"}

TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on odd values (they are turned into strings)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=_default, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """The classic line, UTC timestamps."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


def configure_logging(fmt: str, level: str, stream: TextIO | None = None) -> None:
    """Send every logger (ours, uvicorn's, APScheduler's) through one root handler on stderr."""
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be json or text, got {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.setLevel(level)  # also when a library lowers the root logger's level (Scrapy)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.disabled = False  # a logging.config.dictConfig elsewhere may have disabled it
        logger.setLevel(logging.NOTSET)  # the root's level and handler decide


__all__ = ["JsonFormatter", "TextFormatter", "configure_logging", "extra_fields"]
