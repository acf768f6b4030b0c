"""The one cache of computed answers: per database (engine), least recently used first out,
safe across the web server's threads (one lock).

`ANSWERS` keeps the status answers (tracker.services.read.status.current_status), the same
answers as the web encodes them (bytes, `current_encoded`, under the same key but its kind) and
the overview's rule progress per treaty (tracker.services.read.treaties), each under a key that
begins with its kind and covers everything the answer is computed from. `HISTORIES` keeps the
derived histories the as-of answers read (tracker.services.read.status_as_of). Values are
shared: callers must not mutate them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from tracker.domain.treaty_history import TreatyHistory
    from tracker.forecast.history import History

V = TypeVar("V")


def engine_of(session: Session) -> Engine:
    """The engine a session reads through (its database)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


class AnswerCache(Generic[V]):
    """Values per (database, key), at most `size` per database, least recently used out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._by_engine: WeakKeyDictionary[Engine, OrderedDict[Hashable, V]] = WeakKeyDictionary()

    def get(self, session: Session, key: Hashable) -> V | None:
        with self._lock:
            found = self._by_engine.get(engine_of(session))
            if found is None or key not in found:
                return None
            found.move_to_end(key)
            return found[key]

    def put(self, session: Session, key: Hashable, value: V) -> None:
        with self._lock:
            found = self._by_engine.setdefault(engine_of(session), OrderedDict())
            found[key] = value
            found.move_to_end(key)
            while len(found) > self.size:
                found.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()


# Status answers (128 were kept), the same answers encoded for the web (bytes, 128) and overview
# progress (4096) of one database.
ANSWERS: AnswerCache[dict[str, Any] | bytes] = AnswerCache(size=4096 + 2 * 128)
HISTORIES: AnswerCache[TreatyHistory] = AnswerCache(size=32)
# The forecast's reference histories: all of them at the database's latest state (a few), and
# each treaty's at its latest snapshot (one or none), so a change re-reads only what changed.
FORECAST_HISTORIES: AnswerCache[tuple[History, ...]] = AnswerCache(size=8192)
