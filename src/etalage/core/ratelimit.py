"""Rate limits behind one interface: in-process (embedded default) and Redis (shared by all processes).

Both implement a sliding-window counter approximated by two fixed windows, which is what most API
gateways do: cheap, and never lets more than ~limit requests through per window.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float
    remaining: int


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: float, cost: int = 1) -> Decision: ...

    def reset(self, key: str) -> None: ...


def _sliding(prev: int, curr: int, elapsed_fraction: float) -> float:
    return prev * (1.0 - elapsed_fraction) + curr


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, int], int] = {}
        self._last_sweep = time.monotonic()

    def hit(self, key: str, limit: int, window_seconds: float, cost: int = 1) -> Decision:
        now = time.time()
        window = int(now // window_seconds)
        frac = (now % window_seconds) / window_seconds
        with self._lock:
            prev = self._windows.get((key, window - 1), 0)
            curr = self._windows.get((key, window), 0)
            used = _sliding(prev, curr, frac)
            if used + cost > limit:
                retry = _retry_after(prev, curr, limit, cost, frac, window_seconds)
                return Decision(False, retry, 0)
            self._windows[(key, window)] = curr + cost
            self._sweep(window)
            return Decision(True, 0.0, max(0, int(limit - used - cost)))

    def reset(self, key: str) -> None:
        with self._lock:
            for k in [k for k in self._windows if k[0] == key]:
                del self._windows[k]

    def _sweep(self, window: int) -> None:
        if time.monotonic() - self._last_sweep < 30:
            return
        self._last_sweep = time.monotonic()
        for k in [k for k in self._windows if k[1] < window - 1]:
            del self._windows[k]


def _retry_after(prev: int, curr: int, limit: int, cost: int, frac: float, window: float) -> float:
    # Time until the previous window's weight has decayed enough for this request to fit.
    if curr + cost > limit or prev == 0:
        return (1.0 - frac) * window
    needed = (prev + curr + cost - limit) / prev  # fraction of the window that must pass
    return max(0.05, min(window, (needed - frac) * window if needed > frac else 0.05))


_REDIS_SCRIPT = """
local prev = tonumber(redis.call('GET', KEYS[1]) or '0')
local curr = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local frac = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local used = prev * (1 - frac) + curr
if used + cost > limit then
  return {0, prev, curr}
end
redis.call('INCRBY', KEYS[2], cost)
redis.call('EXPIRE', KEYS[2], ttl)
return {1, prev, curr}
"""


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "etalage:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_REDIS_SCRIPT)
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: float, cost: int = 1) -> Decision:
        now = time.time()
        window = int(now // window_seconds)
        frac = (now % window_seconds) / window_seconds
        keys = [f"{self._prefix}{key}:{window - 1}", f"{self._prefix}{key}:{window}"]
        ttl = math.ceil(window_seconds * 2) + 1
        allowed, prev, curr = self._script(keys=keys, args=[limit, frac, cost, ttl])
        if allowed:
            return Decision(True, 0.0, max(0, int(limit - _sliding(prev, curr, frac) - cost)))
        return Decision(False, _retry_after(int(prev), int(curr), limit, cost, frac, window_seconds), 0)

    def reset(self, key: str) -> None:
        for k in self._redis.scan_iter(f"{self._prefix}{key}:*"):
            self._redis.delete(k)


def build_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
