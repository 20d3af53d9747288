"""Rate limits: a sliding-window request counter per caller."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.server.errors import ApiError


class RateLimiter:
    """A sliding-window request counter per caller, in memory, remembering at most `max_callers` callers
    (least recently seen forgotten first), so each check costs the same however many addresses call."""

    def __init__(self, limit: int, window: float, max_callers: int = 50_000) -> None:
        self.limit = limit
        self.window = window
        self.max_callers = max_callers
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
                if len(self._hits) > self.max_callers:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
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

    def __len__(self) -> int:
        return len(self._hits)


class Admission:
    """At most `in_flight` answers computed at once and `queue` waiting; past that, or after waiting
    `timeout` seconds, a fast 503 with Retry-After instead of an ever longer wait."""

    def __init__(self, in_flight: int, queue: int, timeout: float) -> None:
        self.in_flight = in_flight
        self.queue = queue
        self.timeout = timeout
        self._slots = asyncio.Semaphore(in_flight)
        self._admitted = 0  # in progress or waiting

    def _busy(self, why: str) -> ApiError:
        return ApiError(
            503,
            "overloaded",
            f"The server is busy ({why}); retry in a few seconds.",
            {"Retry-After": "2"},
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        # Counted before any await, so that a burst sees the queue fill up request by request.
        if self._admitted >= self.in_flight + self.queue:
            waiting = self._admitted - self.in_flight
            raise self._busy(f"{self.in_flight} answers in progress and {waiting} waiting")
        self._admitted += 1
        try:
            try:
                await asyncio.wait_for(self._slots.acquire(), self.timeout)
            except TimeoutError:
                raise self._busy(f"no answer slot came free within {self.timeout:g} s") from None
            try:
                yield
            finally:
                self._slots.release()
        finally:
            self._admitted -= 1
