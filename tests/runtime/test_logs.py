"""Structured logs: one JSON object per line with time, level, logger, message and extra fields."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from tracker.runtime.logs import JsonFormatter, configure_logging
from tracker.settings import ConfigError, Settings


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_record_is_one_json_line_with_its_extra_fields(restore_root):
    out = io.StringIO()
    configure_logging("json", "INFO", out)
    log = logging.getLogger("tracker.service")
    log.info(
        "crawl %s: %d pages",
        "untc",
        3,
        extra={
            "event": "crawl",
            "pages": 3,
            "accepted": 1,
            "at": datetime(2026, 1, 2, tzinfo=UTC),
            "reasons": ("a", "b"),
            "odd": object(),
        },
    )
    log.debug("not shown")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.exception("failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "crawl untc: 3 pages"
    assert (first["level"], first["logger"], first["event"]) == ("INFO", "tracker.service", "crawl")
    assert (first["pages"], first["accepted"], first["reasons"]) == (3, 1, ["a", "b"])
    assert first["at"] == "2026-01-02T00:00:00+00:00" and first["odd"].startswith("<object")
    stamp = datetime.fromisoformat(first["time"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert first["time"].endswith("+00:00") and "." in first["time"]
    assert second["level"] == "ERROR" and "RuntimeError: boom" in second["exception"]


def test_other_libraries_go_through_the_same_handler(restore_root):
    out = io.StringIO()
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(io.StringIO()))
    configure_logging("json", "INFO", out)
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    logging.getLogger("apscheduler.scheduler").info("Scheduler started")
    loggers = [json.loads(line)["logger"] for line in out.getvalue().splitlines()]
    assert loggers == ["uvicorn.error", "apscheduler.scheduler"]


def test_text_format(restore_root):
    out = io.StringIO()
    configure_logging("text", "INFO", out)
    logging.getLogger("tracker.leader").info("leader: acquired")
    line = out.getvalue().strip()
    assert line.endswith("tracker.leader INFO leader: acquired")
    assert not line.startswith("{")
    with pytest.raises(ValueError):
        configure_logging("xml", "INFO")


def test_the_format_setting():
    assert Settings.from_env({}).log_format is None  # each command's default (run: json)
    assert Settings.from_env({"TRACKER_LOG_FORMAT": "TEXT"}).log_format == "text"
    as_json = Settings.from_env({"TRACKER_LOG_FORMAT": "json"})
    assert as_json.to_env()["TRACKER_LOG_FORMAT"] == "json"
    assert "TRACKER_LOG_FORMAT" not in Settings.from_env({}).to_env()
    with pytest.raises(ConfigError, match="TRACKER_LOG_FORMAT must be one of json, text"):
        Settings.from_env({"TRACKER_LOG_FORMAT": "xml"})


def test_json_formatter_alone():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "50%% done %s", ("now",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "50% done now"


def test_a_library_logger_disabled_or_raised_elsewhere_still_gets_through(restore_root):
    # e.g. a logging.config.dictConfig(disable_existing_loggers=True) run by another library
    logging.getLogger("uvicorn.error").disabled = True
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    out = io.StringIO()
    configure_logging("json", "INFO", out)
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    assert [json.loads(line)["logger"] for line in out.getvalue().splitlines()] == ["uvicorn.error"]
