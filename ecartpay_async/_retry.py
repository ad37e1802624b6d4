"""The retry policy, on tenacity: which failures are retried, and how long to wait.

Which: the rules decide (:func:`.rules.is_retryable`, the table in :mod:`.rules`):
connection errors, timeouts, answers that are not valid JSON, 408, 429 and 5xx are
retried; other 4xx are not (the request itself is wrong), and neither is anything a
caller marks as unsafe (a payout whose outcome is unknown and that has no
reference_id to look it up by).

How long: exponential, ``min(initial_delay * 2**n, max_delay)``, shortened by up to
25 % of jitter so that a crowd of clients does not retry in step. A ``Retry-After``
header (seconds or an HTTP date) wins, capped at ``max_retry_after``; the request
pipeline also holds every other request of the client for that long (:mod:`._pause`).

:meth:`RetryPolicy.retry` paces the SDK's one retry loop, :meth:`.HTTPPipeline.call`
(its only caller): the pipeline runs the first attempt bare, then, after a failure
worth retrying, the retries run here under tenacity's ``AsyncRetrying``. What an
attempt is (a look-up first? which failures may be sent again?) is the pipeline's,
from the call's ``RequestOptions``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import anyio
import attrs

if TYPE_CHECKING:
    from tenacity import RetryCallState

from ._reprs import safe_repr
from .errors import APIStatusError, EcartPayError, RateLimitError
from .rules import is_retryable, may_have_been_processed

__all__ = ["RetryPolicy", "is_retryable", "may_have_been_processed", "parse_retry_after"]

T = TypeVar("T")

logger = logging.getLogger("ecartpay_async")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after_of(exc: BaseException | None) -> float | None:
    """The server-requested wait carried by an error, if any."""
    if isinstance(exc, RateLimitError):
        return exc.retry_after
    if isinstance(exc, APIStatusError):
        return parse_retry_after(exc.headers.get("retry-after"))
    return None


@safe_repr
@attrs.frozen
class RetryPolicy:
    """How a client retries; one instance per client, overridable per call.

    ``sleep`` is the coroutine used to wait; tests pass a fake to check the waits
    without waiting.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    def __attrs_post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    def delay(self, retry_number: int, exc: BaseException | None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        server_wait = retry_after_of(exc)
        if server_wait is not None:
            return min(server_wait, self.max_retry_after)
        backoff = min(self.initial_delay * 2.0 ** (retry_number - 1), self.max_delay)
        return backoff * (1 - self.jitter * random.random())

    async def retry(
        self,
        attempt: Callable[[], Awaitable[T]],
        first_error: BaseException,
        *,
        retries: int,
        retry_if: Callable[[BaseException], bool] = is_retryable,
        describe: str = "request",
    ) -> T:
        """Call ``attempt`` again after its first failure, ``first_error`` (one the
        caller judged worth retrying), until it succeeds, fails for good, or
        ``retries`` run out.

        The last error is re-raised as it was: callers see the real failure, not a
        wrapper.
        """

        def wait(state: RetryCallState) -> float:
            # state.attempt_number counts tenacity's attempts, which start at the
            # first retry; before the first of them, the first attempt's error rules.
            exc = state.outcome.exception() if state.outcome else first_error
            return self.delay(state.attempt_number + 1, exc)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self._log_retry(describe, state.upcoming_sleep, exc, state.attempt_number + 1, retries)

        # Imported here: only a failing call needs tenacity, and importing it costs
        # every program that imports the SDK (building its machinery costs ~50 µs,
        # as much as sending the request: the first attempt never pays it).
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        first_wait = self.delay(1, first_error)
        self._log_retry(describe, first_wait, first_error, 1, retries)
        await self.sleep(first_wait)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retries),
            wait=wait,
            retry=retry_if_exception(retry_if),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

        async def call() -> T:
            # tenacity awaits only coroutine functions: a lambda returning a coroutine
            # (as the pipeline passes) would come back un-awaited.
            return await attempt()

        return await retrying(call)

    @staticmethod
    def _log_retry(
        describe: str, wait: float, exc: BaseException | None, number: int, retries: int
    ) -> None:
        logger.info(
            "retrying %s in %.2fs after %s (retry %d of %d)",
            describe, wait, _describe_error(exc), number, retries,
        )


def _describe_error(exc: BaseException | None) -> str:
    if isinstance(exc, EcartPayError):
        return f"{type(exc).__name__}: {exc.message}"
    return type(exc).__name__
