"""Option values checked where they are given: one home for what a valid timeout, pool
size or rate is.

A timeout of 0 or -1, a pool of 0 connections or a rate of ``nan`` used to be
accepted and then fail every call (with ``timeout=0`` a payout could even be created
while its call reported a failure). Each check here refuses such a value at once with
a :class:`~ecartpay_async.errors.ConfigurationError` naming the option; the command
line uses the same checks for its options.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from .errors import ConfigurationError

__all__ = ["check_limits", "check_timeout", "pool_size", "positive_finite"]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_finite(name: str, value: Any) -> float:
    """``value`` if it is a number above 0 and finite (seconds, a rate), else refused."""
    if not _is_number(value) or not 0 < value < math.inf:
        raise ConfigurationError(f"{name} must be a positive, finite number, got {value!r}")
    return float(value)


def pool_size(name: str, value: Any) -> int:
    """``value`` if it is a whole number of at least 1 (connections, workers), else refused."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def check_timeout(timeout: float | httpx.Timeout | None, name: str = "timeout") -> None:
    """A timeout in seconds, or an ``httpx.Timeout`` whose parts are: positive and
    finite. ``None`` (the default, or a part left unbounded) passes."""
    if timeout is None:
        return
    if isinstance(timeout, httpx.Timeout):
        for part, seconds in timeout.as_dict().items():
            if seconds is not None:
                positive_finite(f"{name} ({part})", seconds)
        return
    positive_finite(name, timeout)


def check_limits(limits: httpx.Limits | None, name: str = "limits") -> None:
    """A pool's limits: ``max_connections`` at least 1 when given (0 would let no
    request out); ``max_keepalive_connections`` not negative."""
    if limits is None:
        return
    if limits.max_connections is not None:
        pool_size(f"{name}.max_connections", limits.max_connections)
    keepalive = limits.max_keepalive_connections
    if keepalive is not None and (not isinstance(keepalive, int) or keepalive < 0):
        raise ConfigurationError(
            f"{name}.max_keepalive_connections must be 0 or more, got {keepalive!r}"
        )
