"""Rate limits: the embedded limiter and the Redis one behave the same."""

from __future__ import annotations

import os
import uuid

import pytest

from etalage.core.ratelimit import MemoryRateLimiter, RedisRateLimiter

pytestmark = pytest.mark.db_agnostic


def _redis_url() -> str | None:
    url = os.environ.get("ETALAGE_TEST_REDIS_URL")
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_limit_then_refuse_with_retry_after(kind):
    if kind == "redis":
        url = _redis_url()
        if url is None:
            pytest.skip("Redis not configured: set ETALAGE_TEST_REDIS_URL (the CI sets it to 127.0.0.1:6379)")
        limiter = RedisRateLimiter(url)
    else:
        limiter = MemoryRateLimiter()
    key = f"t-{uuid.uuid4()}"
    results = [limiter.hit(key, 5, 60) for _ in range(7)]
    assert [r.allowed for r in results] == [True] * 5 + [False] * 2
    assert results[0].remaining == 4
    assert 0 < results[-1].retry_after <= 60
    limiter.reset(key)
    assert limiter.hit(key, 5, 60).allowed
    # costs count in full
    other = f"t-{uuid.uuid4()}"
    assert limiter.hit(other, 10, 60, cost=8).allowed
    assert not limiter.hit(other, 10, 60, cost=3).allowed
