"""The dispatcher's doorbell: rung when deliveries are committed, so that they go out at once
instead of at the dispatcher's next poll (tracker.alerts.job.DISPATCH_INTERVAL_SECONDS, which
stays the fallback: a process that no dispatcher listens to rings nobody).

- `ring_after_commit(session)` (the outbox, on writing deliveries): `DOORBELL` rings when that
  session's transaction commits, never for one rolled back.
- Listeners: the service's scheduler runs its dispatch job now (tracker.runtime.scheduler);
  a crawl child writes one byte to a pipe whose read end its parent watches
  (`TRACKER_DOORBELL_FD`, spiders.doorbell), and the parent rings its own doorbell
  (tracker.runtime.crawl_runner).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("tracker.alerts")


class Doorbell:
    """Listeners called (in the ringing thread) on every ring; a listener that fails is logged
    and kept, a listener that returns False is removed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], bool | None]] = []
        self.rings = 0

    def listen(self, listener: Callable[[], bool | None]) -> Callable[[], None]:
        """Call `listener` on every ring; returns what stops it."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def ring(self) -> None:
        with self._lock:
            self.rings += 1
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                keep = listener()
            except Exception:  # a doorbell never breaks what rang it (a commit, a crawl)
                log.exception("the dispatcher's doorbell: a listener failed")
                continue
            if keep is False:
                with self._lock:
                    if listener in self._listeners:
                        self._listeners.remove(listener)


DOORBELL = Doorbell()


def ring_after_commit(session: Session) -> None:
    """Ring `DOORBELL` once when `session`'s transaction commits (a rolled-back one rings
    nobody; the session's next commit then rings, which costs a dispatch that finds nothing)."""
    if session.info.get("doorbell"):
        return
    session.info["doorbell"] = True

    def committed(_: Session) -> None:
        session.info.pop("doorbell", None)
        DOORBELL.ring()

    event.listen(session, "after_commit", committed, once=True)
