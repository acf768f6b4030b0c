"""The service process (`tracker run`): serves HTTP in every process and runs the scheduled jobs
only in the process that holds the leader lock (tracker.runtime.leadership), until SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from types import FrameType

import uvicorn
from sqlalchemy import make_url

from tracker.runtime.crawl_runner import stop_running_crawls
from tracker.runtime.jobs import CRAWL_INTERVAL_HOURS
from tracker.runtime.leadership import Leadership
from tracker.runtime.locks import make_leader_lock
from tracker.runtime.logs import configure_logging
from tracker.runtime.scheduler import start_scheduler
from tracker.services.unit_of_work import Database
from tracker.settings import Settings
from tracker.sources.registry import base_urls
from tracker.web.app import create_app

log = logging.getLogger("tracker.service")


def _stop_crawls() -> None:
    stopped = stop_running_crawls()
    if stopped:
        log.info("stopped %d running crawl(s)", stopped)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling (it re-raises the signal after shutdown, which
    would kill the process before the scheduler and the database are closed)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Upgrade the database, serve HTTP, and run the scheduled jobs while this process is the
    leader (tracker.runtime.locks), until SIGTERM or SIGINT."""
    # JSON unless told otherwise, here and (through the settings' environment) in the crawls.
    settings = settings.replace(log_format=settings.log_format or "json")
    configure_logging(settings.log_format, settings.log_level)
    settings.ensure_data_dir()
    database = Database.upgraded(settings.database_url)
    app = create_app(database.sessions, settings)
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            log_config=None,  # uvicorn's records go through our handler (JSON or text)
            access_log=False,
        )
    )
    leadership = Leadership(
        make_leader_lock(settings),
        lambda: start_scheduler(settings),
        settings.leader_poll_seconds,
        on_step_down=_stop_crawls,
    )
    app.state.leadership = leadership  # for the web layer: `.is_leader` (scheduler runs here)
    log.info(
        "service started: database %s, crawling %s every %d h, serving http://%s:%d",
        _safe_url(settings.database_url),
        ", ".join(f"{slug} at {url}" for slug, url in base_urls(settings).items()),
        CRAWL_INTERVAL_HOURS,
        host,
        port,
        extra={"event": "service_started", "host": host, "port": port},
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    leadership.start()
    try:
        server.run()  # returns after SIGTERM/SIGINT, once open requests are answered
    finally:
        leadership.stop()  # scheduler, running crawls, then the lock
        _stop_crawls()
        database.dispose()
        log.info("service stopped")
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)
