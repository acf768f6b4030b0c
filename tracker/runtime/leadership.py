"""Leadership: the state machine that runs the scheduler only while this process holds the
leader lock (tracker.runtime.locks): it polls the lock, starts a fresh scheduler on acquiring it
and shuts the scheduler down (and stops its running crawls) on losing it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from tracker.runtime.locks import LeaderLock

leader_log = logging.getLogger("tracker.leader")


class Leadership:
    """Run the scheduler only while holding the leader lock.

    `poll()` is one step: as leader, check the lock is still held (if not: "leader: lost", the
    scheduler is shut down and its running crawls stopped); as standby, try to take it ("leader:
    acquired", a fresh scheduler is started). The thread started by `start()` polls every
    `poll_seconds`; `stop()` ends it and steps down (scheduler, crawls, then the lock).
    """

    def __init__(
        self,
        lock: LeaderLock,
        make_scheduler: Callable[[], BaseScheduler],
        poll_seconds: float,
        on_step_down: Callable[[], Any] = lambda: None,
    ) -> None:
        self.lock = lock
        self.make_scheduler = make_scheduler
        self.poll_seconds = poll_seconds
        self.on_step_down = on_step_down
        self.scheduler: BaseScheduler | None = None
        self._mutex = threading.Lock()
        self._stopping = threading.Event()
        self._standby_said = False
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def poll(self) -> bool:
        """One step of the election; returns whether this process leads now."""
        with self._mutex:
            if self._stopping.is_set():
                return False
            if self.scheduler is not None:
                if self.lock.still_held():
                    return True
                leader_log.error(
                    "leader: lost (%s): stopping the scheduler",
                    self.lock.description,
                    extra={"event": "leader", "state": "lost"},
                )
                self._step_down()
                return False
            if not self.lock.try_acquire():
                if not self._standby_said:
                    leader_log.info(
                        "leader: standby (%s held elsewhere; trying every %g s)",
                        self.lock.description,
                        self.poll_seconds,
                        extra={"event": "leader", "state": "standby"},
                    )
                    self._standby_said = True
                return False
            leader_log.info(
                "leader: acquired (%s): starting the scheduler",
                self.lock.description,
                extra={"event": "leader", "state": "acquired"},
            )
            try:
                scheduler = self.make_scheduler()
                scheduler.start()
            except Exception:  # noqa: BLE001 (logged, and the lock released)
                leader_log.exception("leader: could not start the scheduler; releasing the lock")
                self.lock.release()
                return False
            self.scheduler = scheduler
            self._standby_said = False
            return True

    def _step_down(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            with contextlib.suppress(Exception):
                scheduler.shutdown(wait=False)
            try:
                self.on_step_down()
            except Exception:  # noqa: BLE001 (logged; the lock is released all the same)
                leader_log.exception("leader: stepping down")
        self.lock.release()  # last: no other process starts crawling while ours still run

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 (never let the election thread die)
                leader_log.exception("leader: election step failed")
            self._stopping.wait(self.poll_seconds)

    def start(self) -> Leadership:
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._mutex:
            was_leader = self.scheduler is not None
            self._step_down()
            if was_leader:
                leader_log.info("leader: released", extra={"event": "leader", "state": "released"})
        close = getattr(self.lock, "close", None)
        if callable(close):
            close()
