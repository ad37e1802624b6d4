"""The pause gate: when the server asks for quiet, every request of the client waits.

A 429 or 503 carrying ``Retry-After`` (see :mod:`.rules`) sets one "not before"
instant shared by the client and every client derived from it (``with_options``), and
by every row of a batch: hammering a server that asked for quiet helps no one. The
request pipeline is the only writer (:meth:`PauseGate.pause`) and waits at the gate
before each attempt; a batch and the command line only read :meth:`PauseGate.stats`.

The warning "server asked to slow down" is logged at most once every
``log_interval`` seconds, with the number of asks since the last line, so a storm
of 429s is one line every few seconds, not one per answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

import attrs

from ._reprs import safe_repr

__all__ = ["PauseGate", "PauseStats"]

logger = logging.getLogger("ecartpay_async")

LOG_INTERVAL: Final = 5.0


@safe_repr
@attrs.frozen(slots=True)
class PauseStats:
    """What the gate did so far: ``pauses`` (quiet periods begun), ``asks`` (answers that
    asked for one, extending it or not), ``paused_seconds`` (time spent paused so far),
    and ``remaining`` (seconds of the current pause still to wait, 0 when not paused)."""

    pauses: int = 0
    asks: int = 0
    paused_seconds: float = 0.0
    remaining: float = 0.0

    @property
    def paused(self) -> bool:
        return self.remaining > 0


class PauseGate:
    """A shared "not before" instant on the ``clock`` (monotonic seconds)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_interval: float = LOG_INTERVAL,
    ) -> None:
        self._clock = clock
        self._log_interval = log_interval
        self._until = 0.0
        #: Whether any pause was ever set: until then :meth:`wait` has nothing to do
        #: (callers skip awaiting it, on the hot path of every request).
        self.ever_paused = False
        self._pauses = 0
        self._asks = 0
        self._committed = 0.0  # length of the union of every pause set so far
        self._logged_at: float | None = None
        self._asks_unlogged = 0

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (a longer pause already set wins)."""
        now = self._clock()
        until = now + max(seconds, 0.0)
        self._asks += 1
        self._asks_unlogged += 1
        if until > self._until:
            if self._until <= now:
                self._pauses += 1
            self._committed += until - max(self._until, now)
            self._until = until
            self.ever_paused = True
        if self._logged_at is None or now - self._logged_at >= self._log_interval:
            asked = self._asks_unlogged
            times = "" if asked == 1 else f" ({asked} times since the last message)"
            logger.warning(
                "server asked to slow down%s: pausing requests for %.2fs", times, until - now
            )
            self._logged_at = now
            self._asks_unlogged = 0

    def remaining(self) -> float:
        """Seconds left in the current pause (0 when there is none)."""
        return max(0.0, self._until - self._clock())

    async def wait(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Return once no pause is set; ``sleep`` is the caller's (tests pass a fake)."""
        if not self._until:
            return  # never paused: not even a clock read
        # Sleep to the deadline; go round again only if someone extended it meanwhile.
        while (delay := self._until - self._clock()) > 0:
            await sleep(delay)

    def stats(self) -> PauseStats:
        remaining = self.remaining()
        return PauseStats(
            pauses=self._pauses,
            asks=self._asks,
            paused_seconds=self._committed - remaining,
            remaining=remaining,
        )
