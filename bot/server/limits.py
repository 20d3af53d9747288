"""Rate limits: a sliding-window request counter per caller."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from bot.server.errors import ApiError


class RateLimiter:
    """A sliding-window request counter per caller."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, math.ceil(hits[0] + self.window - now))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"Too many requests: the limit is {self.limit} per {self.window:g} seconds; retry in {retry} s.",
                    {"Retry-After": str(retry)},
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle callers
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[stale]
