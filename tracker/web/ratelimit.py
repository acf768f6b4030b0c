"""A sliding-window rate limit by key (an address, a client IP), in this process's memory.

Each process of the service counts for itself: with N replicas behind a balancer a client may
get up to N times the limit, which is still a bound (the form it guards sends at most one email
per accepted request)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimit:
    """At most `limit` hits per key in any `window` seconds."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000  # beyond it the oldest keys are forgotten (bounded memory)
    _hits: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def hit(self, key: str) -> float | None:
        """Count a hit for `key`: None if allowed, else the seconds until one more would be."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._hits.pop(next(iter(self._hits)))
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return None
