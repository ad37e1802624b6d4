"""Option values are checked where they are given: a timeout of 0 or -1, a pool of 0
connections, a per-call timeout of 0 are refused with ConfigurationError at once,
before anything is sent (``timeout=0`` once created a payout while reporting failure)."""

from __future__ import annotations

import math
from decimal import Decimal

import httpx
import pytest

from ecartpay_async import AsyncClient
from ecartpay_async.errors import ConfigurationError
from ecartpay_async.sandbox import Sandbox

KEYS = {"public_key": "pub_x", "private_key": "priv_x"}


@pytest.mark.parametrize(
    "timeout", [0, -1, 0.0, math.nan, math.inf, True, httpx.Timeout(0), httpx.Timeout(5, read=-1)]
)
def test_a_client_timeout_must_be_positive_and_finite(timeout: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        AsyncClient(**KEYS, timeout=timeout)  # type: ignore[arg-type]


def test_a_pool_needs_at_least_one_connection() -> None:
    with pytest.raises(ConfigurationError, match="max_connections"):
        AsyncClient(**KEYS, limits=httpx.Limits(max_connections=0))
    AsyncClient(**KEYS, limits=httpx.Limits(max_connections=1))  # the least that works
    AsyncClient(**KEYS, timeout=httpx.Timeout(5, pool=None))  # an unbounded part is allowed


def test_with_options_checks_its_timeout() -> None:
    client = AsyncClient(**KEYS)
    with pytest.raises(ConfigurationError, match="timeout"):
        client.with_options(timeout=0)


@pytest.mark.anyio
@pytest.mark.parametrize("timeout", [0, -1, math.nan])
async def test_a_per_call_timeout_of_zero_is_refused_before_sending(timeout: float) -> None:
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        with pytest.raises(ConfigurationError, match="timeout"):
            await client.payouts.create(
                email="ana@example.com", reference_id="opt-1", amount=Decimal("10.00"),
                currency="MXN", timeout=timeout,
            )
        assert sb.state.payouts() == []
