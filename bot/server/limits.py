"""Rate limits: a sliding-window request counter per caller.

Kept hand-written rather than the `limits` library: its memory:// storage remembers every caller until
expiry (no cap on callers) with whole-second windows, and its Redis moving window stamps entries with
each replica's own clock, where this one takes Redis's TIME inside one atomic script.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
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
    `timeout` seconds, a fast 503 with Retry-After instead of an ever longer wait.

    asyncio.Semaphore does the waiting; only the cap on waiters and the 503 are added here."""

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


# Sliding window in a Redis sorted set, checked and counted in one atomic step, with Redis's own clock,
# so every replica counts against the same allowance.
_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class RedisRateLimiter(RateLimiter):
    """The same sliding window, kept in Redis (server.redis_url) and shared by every replica; its
    memory is bounded by the keys' expiry."""

    def __init__(self, url: str, limit: int, window: float, prefix: str = "bot:rl:") -> None:
        super().__init__(limit, window)
        import redis

        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_SLIDING_WINDOW)

    def check(self, key: str) -> None:
        if self.limit <= 0:
            return
        import redis

        window_ms = int(self.window * 1000)
        try:
            wait_ms = int(self._script(keys=[self.prefix + key], args=[window_ms, self.limit, uuid.uuid4().hex]))
        except redis.RedisError as exc:
            raise ApiError(
                503,
                "rate_limiter_unavailable",
                f"The rate-limit store at {self.url} does not answer ({exc.__class__.__name__}); retry shortly.",
                {"Retry-After": "5"},
            ) from exc
        if wait_ms >= 0:
            retry = max(1, math.ceil(wait_ms / 1000))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests: the limit is {self.limit} per {self.window:g} seconds; retry in {retry} s.",
                {"Retry-After": str(retry)},
            )

    def __len__(self) -> int:
        return 0


def rate_limiter(redis_url: str, limit: int, window: float, max_callers: int, prefix: str) -> RateLimiter:
    """In Redis when server.redis_url is set (shared by replicas), else in this process's memory."""
    if redis_url:
        return RedisRateLimiter(redis_url, limit, window, prefix)
    return RateLimiter(limit, window, max_callers)
