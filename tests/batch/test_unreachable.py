"""An address where nothing listens: the token request fails, and the batch stops at once."""

from __future__ import annotations

import socket

import pytest
from batch_fakes import make_requests

from ecartpay_async import APIConnectionError, AsyncClient, RetryPolicy
from ecartpay_async.rules import TOKEN_PATH

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


async def test_an_unreachable_token_request_is_fatal_for_the_whole_batch() -> None:
    policy = RetryPolicy(initial_delay=0.001, max_delay=0.002)
    client = AsyncClient("pk_test", "sk_test", base_url=f"http://127.0.0.1:{_closed_port()}",
                         retry_policy=policy)
    async with client:
        report = await client.payouts.send_batch(make_requests(300), concurrency=16)
    assert report.aborted
    assert isinstance(report.abort_error, APIConnectionError)
    assert report.abort_error.path == TOKEN_PATH
    assert report.abort_reason is not None
    assert "APIConnectionError" in report.abort_reason
    assert report.not_attempted >= 300 - 16  # the rows waiting for the token, at most
    assert report.failed + report.not_attempted == report.total == 300
    assert report.attempts == 0  # no payout request ever left: there was no token
    assert client.payouts._http.tokens.fetches == 0
