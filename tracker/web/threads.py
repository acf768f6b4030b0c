"""The web server's threads: the synchronous code of requests on `web_threads` workers, e-mail
sends on threads of their own.

FastAPI runs every synchronous route, dependency and background task on anyio's default
thread limiter (40 threads). Answers are computed in Python, and on this project's 2-core
machine 32 requests computed at once by 40 threads took each other's time: threads competing
for the GIL, the event loop among them. `limit_web_threads` (run at the app's startup) lets
`Settings.web_threads` of them run and queues the rest; measured with `benchmarks/bench_api.py
--web-threads N` (2026-12-04, 32 connections, SQLite and PostgreSQL; README, HTTP API): the
uncached answer 0.22 to 0.31 of the static file's rate with 2 threads against 0.18 with 40, its
p99 0.9 to 1.6 against 2.8 to 3.2 times the file's.

A request that sends an e-mail waits for the mail server (up to its timeout): it runs on
`run_mail`'s threads instead, so a slow mail server holds up no other request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")

# E-mails sent from requests at once (opt-in confirmations, the Follow form's messages).
MAIL_THREADS = 4
_MAIL_LIMITER: RunVar[CapacityLimiter] = RunVar("tracker_mail_limiter")


def limit_web_threads(threads: int) -> None:
    """Run at most `threads` requests' synchronous code at once (the running event loop's
    default thread limiter)."""
    to_thread.current_default_thread_limiter().total_tokens = threads


def _mail_limiter() -> CapacityLimiter:
    try:
        return _MAIL_LIMITER.get()
    except LookupError:  # the first e-mail sent in this event loop
        limiter = CapacityLimiter(MAIL_THREADS)
        _MAIL_LIMITER.set(limiter)
        return limiter


async def run_mail(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on a mail thread, outside the web's `web_threads`."""
    return await to_thread.run_sync(fn, *args, limiter=_mail_limiter())
