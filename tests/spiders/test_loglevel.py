"""spiders.loglevel: records below every handler's level are not built; nothing logged changes."""

import logging

import pytest

from spiders import settings as project_settings
from spiders.loglevel import RootLogLevel, lowest_handler_level


class Recorder(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root():
    saved_level, saved_handlers = logging.root.level, list(logging.root.handlers)
    for h in saved_handlers:
        logging.root.removeHandler(h)
    logging.root.setLevel(logging.NOTSET)  # as Scrapy leaves it
    yield logging.root
    for h in list(logging.root.handlers):
        logging.root.removeHandler(h)
    for h in saved_handlers:
        logging.root.addHandler(h)
    logging.root.setLevel(saved_level)


def test_it_is_enabled_in_the_project_settings():
    assert "spiders.loglevel.RootLogLevel" in project_settings.EXTENSIONS


def only(*handlers: logging.Handler) -> None:
    """The root's handlers are these alone (pytest adds its capture handlers after fixtures)."""
    for h in list(logging.root.handlers):
        logging.root.removeHandler(h)
    for h in handlers:
        logging.root.addHandler(h)


def test_root_level_rises_to_the_lowest_handler_level_and_the_same_records_get_through(root):
    warning, error = Recorder(logging.WARNING), Recorder(logging.ERROR)
    only(warning, error)
    logging.getLogger("alembic").addHandler(logging.NullHandler())  # as libraries do
    made: list[str] = []
    factory = logging.getLogRecordFactory()

    def counting(*args, **kwargs):
        record = factory(*args, **kwargs)
        made.append(record.getMessage())
        return record

    logging.setLogRecordFactory(counting)
    try:
        RootLogLevel.engine_started(object.__new__(RootLogLevel))
        log = logging.getLogger("spiders.pipelines")
        log.info("unchanged %s", "page")
        log.debug("crawled")
        log.warning("quarantined %s", "page")
        log.error("failed")
    finally:
        logging.setLogRecordFactory(factory)
    assert root.level == logging.WARNING
    assert made == ["quarantined page", "failed"]  # no record built for info / debug
    assert [r.getMessage() for r in warning.records] == ["quarantined page", "failed"]
    assert [r.getMessage() for r in error.records] == ["failed"]


def test_a_handler_that_takes_everything_keeps_the_root_open(root):
    everything = Recorder(logging.NOTSET)
    only(Recorder(logging.WARNING))
    logging.getLogger("some.library").addHandler(everything)
    try:
        assert lowest_handler_level() == logging.NOTSET
        RootLogLevel.engine_started(object.__new__(RootLogLevel))
        assert root.level == logging.NOTSET
        logging.getLogger("some.library").info("still seen")
        assert [r.getMessage() for r in everything.records] == ["still seen"]
    finally:
        logging.getLogger("some.library").removeHandler(everything)
