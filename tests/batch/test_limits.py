"""Back-pressure pieces: rate limiter, AIMD, breaker (the pause gate: tests/test_retries.py)."""

from __future__ import annotations

import anyio
import pytest

from ecartpay_async.batch.limits import (
    AdaptiveLimit,
    Breaker,
    BreakerConfig,
    RateLimiter,
)


@pytest.mark.anyio
async def test_the_rate_limiter_spaces_starts() -> None:
    limiter = RateLimiter(200, burst=1)
    start = anyio.current_time()
    for _ in range(21):
        await limiter.acquire()
    # 21 starts at 200/s need at least 20 intervals of 5 ms.
    assert anyio.current_time() - start >= 0.1 - 1e-3


def test_the_rate_limiter_refuses_nonsense() -> None:
    for rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate_limit"):
            RateLimiter(rate)


def test_aimd_halves_on_a_streak_and_recovers_additively() -> None:
    limit = AdaptiveLimit(64, streak=3)
    limit.on_congestion()
    limit.on_congestion()
    assert limit.current == 64  # scattered errors are not a streak
    limit.on_success()
    for _ in range(3):
        limit.on_congestion()
    assert limit.current == 32
    assert limit.decreases == 1
    for _ in range(3):  # within the cooldown: the requests already in flight
        limit.on_congestion()
    assert limit.current == 32
    for _ in range(40):
        limit.on_congestion()
    assert limit.current < 32
    low = limit.current
    for _ in range(low * 3):
        limit.on_success()
    assert low < limit.current <= low + 3
    for _ in range(100_000):
        limit.on_success()
    assert limit.current == 64  # never above the configured concurrency


def test_aimd_never_goes_below_one() -> None:
    limit = AdaptiveLimit(4, streak=1)
    for _ in range(1000):
        limit.on_congestion()
    assert limit.current == 1


def test_the_breaker_judges_a_full_window() -> None:
    breaker = Breaker(BreakerConfig(window=10, threshold=0.5))
    for _ in range(5):
        assert breaker.record(False) is None
    for _ in range(5):
        assert breaker.record(True) is None  # 5 of 10: not more than half
    reason = breaker.record(True)  # the window slides: a success leaves, 6 of 10 failed
    assert reason is not None
    assert reason.startswith("circuit breaker: 6 of the last 10 rows failed")


def test_the_breaker_ignores_early_noise() -> None:
    breaker = Breaker(BreakerConfig(window=10, threshold=0.5))
    for _ in range(9):
        assert breaker.record(True) is None  # the window is not full yet


def test_breaker_config_is_checked() -> None:
    with pytest.raises(ValueError, match="window"):
        BreakerConfig(window=0)
    with pytest.raises(ValueError, match="threshold"):
        BreakerConfig(threshold=0)
