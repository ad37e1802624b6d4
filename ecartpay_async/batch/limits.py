"""Back-pressure shared by every worker of a batch.

(When the server asks for quiet, 429/503 with ``Retry-After``, every request of the
client waits at the client's one pause gate, :mod:`ecartpay_async._pause`.)

* :class:`RateLimiter`: an optional requests-per-second ceiling (a token bucket).
* :class:`AdaptiveLimit`: AIMD concurrency. A streak of 429/5xx answers halves the number
  of sends in flight; successes win it back one slot per round.
* :class:`Breaker`: stops the batch when too many of the last rows failed, instead of
  burning through every row against a broken server.

All of them are plain objects driven by one event loop: no locks are needed because
no state is read and written across an ``await``.
"""

from __future__ import annotations

import math
from collections import deque

import anyio
import attrs

from .._reprs import safe_repr

__all__ = ["AdaptiveLimit", "Breaker", "BreakerConfig", "RateLimiter"]


class RateLimiter:
    """At most ``rate`` starts per second, with a burst of up to ``burst`` at once.

    Virtual scheduling (GCRA): each caller takes the next free slot and sleeps until
    it, so callers are spaced evenly and served in arrival order.
    """

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError("rate_limit must be a positive number of requests per second")
        self.rate = rate
        self._interval = 1.0 / rate
        self._burst = max(1, burst if burst is not None else math.ceil(rate / 10))
        self._next = -math.inf

    async def acquire(self) -> None:
        now = anyio.current_time()
        # A bucket idle for a while holds at most `burst` tokens.
        slot = max(self._next, now - (self._burst - 1) * self._interval)
        self._next = slot + self._interval
        if slot > now:
            await anyio.sleep(slot - now)


class AdaptiveLimit:
    """Additive-increase / multiplicative-decrease of the sends allowed in flight.

    ``limiter`` is the :class:`anyio.CapacityLimiter` workers hold while sending; this
    object moves its ``total_tokens`` between 1 and ``maximum``. Shrinking never
    interrupts a send already in flight: the limiter simply admits fewer new ones.
    """

    def __init__(self, maximum: int, *, streak: int = 4) -> None:
        if maximum < 1:
            raise ValueError("concurrency must be at least 1")
        self.maximum = maximum
        self.limiter = anyio.CapacityLimiter(maximum)
        # The limiter's total_tokens, kept here too: read per attempt, set only here.
        self._tokens = maximum
        #: Whether fewer sends than ``maximum`` are allowed now (read per row). Until
        #: then the batch's ``maximum`` workers are the limit themselves and need not
        #: take a slot.
        self.throttled = False
        self._streak_needed = streak
        self._streak = 0
        self._credit = 0.0
        # Attempts still to see before another decrease: one halving per round of
        # in-flight requests, since those were all sent before the first signal.
        self._cooldown = 0
        self.decreases = 0

    @property
    def current(self) -> int:
        return self._tokens

    def _set(self, tokens: int) -> None:
        self._tokens = tokens
        self.limiter.total_tokens = tokens
        self.throttled = tokens < self.maximum

    def on_congestion(self) -> None:
        """A 429 or 5xx answer."""
        self._streak += 1
        self._credit = 0.0
        if self._cooldown > 0:
            self._cooldown -= 1
            return
        if self._streak >= self._streak_needed and self.current > 1:
            self._set(max(1, self.current // 2))
            self.decreases += 1
            self._streak = 0
            self._cooldown = self.current

    def on_success(self) -> None:
        """An answer that shows the server coping (any status below 500 but 429)."""
        self._streak = 0
        if self._cooldown > 0:
            self._cooldown -= 1
        current = self._tokens
        if current >= self.maximum:
            return
        self._credit += 1.0 / current
        if self._credit >= 1.0:
            self._credit = 0.0
            self._set(current + 1)


@safe_repr
@attrs.frozen(slots=True)
class BreakerConfig:
    """Trip when more than ``threshold`` of the last ``window`` finished rows failed."""

    window: int = 50
    threshold: float = 0.5

    def __attrs_post_init__(self) -> None:
        if self.window < 1:
            raise ValueError("breaker window must be at least 1 row")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("breaker threshold must be in (0, 1]")


class Breaker:
    """A sliding window over the last rows' results; :meth:`record` says when to stop."""

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self._window: deque[bool] = deque(maxlen=config.window)
        self._failures = 0
        self._size = config.window
        self._limit = config.threshold * config.window  # failures a full window may hold

    def record(self, failed: bool) -> str | None:
        """Add one finished row; return the reason to stop, or None to go on."""
        window = self._window
        full = len(window) == self._size
        if full and window[0]:
            self._failures -= 1
        window.append(failed)
        if failed:
            self._failures += 1
        elif self._failures == 0:
            return None  # the usual row: nothing failed lately
        # Judge only a full window: two failures out of the first three rows are noise.
        if (full or len(window) == self._size) and self._failures > self._limit:
            return (
                f"circuit breaker: {self._failures} of the last {len(window)} rows failed "
                f"(limit {self.config.threshold:.0%})"
            )
        return None
