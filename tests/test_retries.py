"""Retries: what is retried, backoff with jitter, Retry-After, max_retries, the pause gate."""

from __future__ import annotations

import email.utils
import logging
import time

import anyio
import httpx
import pytest
from client_fakes import PAYOUTS, REQUEST, build_client, count_posts, jresp, payout_json

from ecartpay_async import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from ecartpay_async import _retry as retry_module
from ecartpay_async._pause import PauseGate, PauseStats
from ecartpay_async._retry import is_retryable, parse_retry_after

pytestmark = pytest.mark.anyio

PATH = f"{PAYOUTS}/p1"


def _ok() -> httpx.Response:
    return jresp(200, payout_json(id="p1"))


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow answer"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.Response(408),
        httpx.Response(429),
        httpx.Response(500),
        httpx.Response(502, text="<html>Bad gateway</html>"),
        httpx.Response(503),
        httpx.Response(504),
        httpx.Response(200, content=b'{"id": "p1", "sta'),  # garbled: ask again
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else str(f.status_code),
)
async def test_retried_failures(failure, client, router, clock):
    route = router.get(PATH).mock(side_effect=[failure, failure, _ok()])
    payout = await client.payouts.retrieve("p1")
    assert payout.id == "p1"
    assert route.call_count == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 422])
async def test_other_4xx_are_not_retried(status, client, router, clock):
    route = router.get(PATH).mock(return_value=jresp(status, {"message": "no", "statusCode":
                                                              status}))
    with pytest.raises(APIStatusError) as info:
        await client.payouts.retrieve("p1")
    assert info.value.status_code == status
    assert info.value.attempts == 1  # a 401's replay with a new token is the same attempt
    assert route.call_count == (2 if status == 401 else 1)  # a 401 is replayed once, no more
    assert clock.sleeps == []


async def test_the_last_error_is_raised_when_retries_run_out(client, router, clock):
    route = router.get(PATH).mock(side_effect=[httpx.Response(500), httpx.Response(502),
                                               httpx.ReadTimeout("slow")])
    with pytest.raises(APITimeoutError) as info:
        await client.payouts.retrieve("p1")
    assert route.call_count == 3
    assert info.value.attempts == 3  # the error says how many attempts the call made


def test_is_retryable():
    assert is_retryable(APIConnectionError("x"))
    assert is_retryable(APITimeoutError("x"))
    assert is_retryable(APIResponseError("x"))
    for status in (408, 429, 500, 501, 502, 503, 504, 599):
        assert is_retryable(APIStatusError("x", status_code=status)), status
    for status in (400, 401, 403, 404, 409, 422):
        assert not is_retryable(APIStatusError("x", status_code=status)), status
    assert not is_retryable(ValueError("x"))


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(0.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]), (1.0, [0.375, 0.75, 1.5, 3.0, 6.0, 6.0])],
)
async def test_backoff_is_exponential_with_bounded_jitter(
    factor, expected, router, http_client, clock, monkeypatch
):
    monkeypatch.setattr(retry_module.random, "random", lambda: factor)
    route = router.get(PATH).mock(return_value=httpx.Response(500))
    async with build_client(http_client, clock, max_retries=6) as client:
        with pytest.raises(InternalServerError):
            await client.payouts.retrieve("p1")
    assert route.call_count == 7
    assert clock.sleeps == pytest.approx(expected)


async def test_real_jitter_stays_within_bounds(router, http_client, clock):
    router.get(PATH).mock(return_value=httpx.Response(503))
    async with build_client(http_client, clock, max_retries=5) as client:
        for _ in range(20):
            with pytest.raises(InternalServerError):
                await client.payouts.retrieve("p1")
    assert len(clock.sleeps) == 100
    for index, wait in enumerate(clock.sleeps):
        base = min(0.5 * 2 ** (index % 5), 8.0)
        assert 0.75 * base <= wait <= base
    assert len(set(clock.sleeps)) > 50  # jittered, not in lockstep


def test_policy_delay_parameters():
    policy = RetryPolicy(initial_delay=1.0, max_delay=3.0, jitter=0.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


async def test_retry_after_seconds_is_honoured(client, router, clock):
    route = router.get(PATH).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "3"}), _ok()])
    await client.payouts.retrieve("p1")
    assert route.call_count == 2
    assert clock.sleeps == [3.0]


@pytest.mark.clock
async def test_retry_after_http_date_is_honoured(client, router, clock):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    router.get(PATH).mock(side_effect=[httpx.Response(503, headers={"Retry-After": when}),
                                       _ok()])
    await client.payouts.retrieve("p1")
    # (The date is read again when the retry is scheduled, by the real wall clock, so
    # the pause gate on fake time may add the few real milliseconds in between.)
    assert 15 < clock.sleeps[0] <= 20
    assert sum(clock.sleeps) <= 20.5


@pytest.mark.parametrize(("cap", "expected"), [(None, 60.0), (5.0, 5.0)])
async def test_retry_after_is_capped(cap, expected, router, http_client, clock):
    policy = RetryPolicy(sleep=clock.sleep, **({} if cap is None else {"max_retry_after": cap}))
    router.get(PATH).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "3600"}),
                                       _ok()])
    async with build_client(http_client, clock, retry_policy=policy) as client:
        await client.payouts.retrieve("p1")
    assert clock.sleeps == [expected]


def test_parse_retry_after():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("tomorrow") is None
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    now = email.utils.parsedate_to_datetime(date).timestamp()
    assert parse_retry_after(date, now=now - 42) == 42.0
    assert parse_retry_after(date, now=now + 42) == 0.0


async def test_max_retries_per_client(router, http_client, clock):
    route = router.get(PATH).mock(return_value=httpx.Response(500))
    async with build_client(http_client, clock, max_retries=0) as client:
        with pytest.raises(InternalServerError):
            await client.payouts.retrieve("p1")
        assert route.call_count == 1
        with pytest.raises(InternalServerError):
            await client.payouts.retrieve("p1", max_retries=3)  # per call wins
        assert route.call_count == 1 + 4
        with pytest.raises(InternalServerError):
            await client.with_options(max_retries=1).payouts.retrieve("p1")
        assert route.call_count == 5 + 2
    assert client.max_retries == 0


async def test_max_retries_per_call_on_create(client, router, clock):
    router.post(PAYOUTS).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError):
        await client.payouts.create(**REQUEST, max_retries=0)
    assert count_posts(router) == 1
    with pytest.raises(APIConnectionError):
        await client.payouts.create(**REQUEST)
    assert count_posts(router) == 1 + 3
    assert len(clock.sleeps) == 2


@pytest.mark.clock
async def test_rate_limit_pauses_the_other_requests_of_the_client(client, router, clock):
    """A 429 with Retry-After holds back every request of the client, not just its own."""
    b_sent_at: list[float] = []

    def b_route(request: httpx.Request) -> httpx.Response:
        b_sent_at.append(clock.now)
        return jresp(200, payout_json(id="b"))

    a = router.get(f"{PAYOUTS}/a").mock(side_effect=[
        jresp(429, {"message": "slow down"}, {"Retry-After": "5"}), jresp(200, payout_json(id="a"))
    ])
    router.get(f"{PAYOUTS}/b").mock(side_effect=b_route)
    start = clock.now
    clock.hold_next()  # freeze task A inside its backoff sleep
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.payouts.retrieve, "a")
        await clock.holding.wait()
        # A is asleep after its 429; B starts now and must wait for the pause too.
        async with anyio.create_task_group() as inner:
            inner.start_soon(client.payouts.retrieve, "b")
        clock.release()
    assert a.call_count == 2
    assert clock.sleeps[0] == 5.0  # A's own backoff
    assert clock.sleeps[1] == pytest.approx(5.0)  # B held back by the pause gate
    assert b_sent_at == [pytest.approx(start + 5.0)]


async def test_rate_limit_pause_is_shared_with_derived_clients(client, router, clock):
    router.get(f"{PAYOUTS}/a").mock(
        return_value=jresp(429, {"message": "slow down"}, {"Retry-After": "4"})
    )
    b = router.get(f"{PAYOUTS}/b").mock(return_value=jresp(200, payout_json(id="b")))
    with pytest.raises(RateLimitError):
        await client.payouts.retrieve("a", max_retries=0)
    assert clock.sleeps == []
    await client.with_options(max_retries=0).payouts.retrieve("b")
    assert clock.sleeps == [pytest.approx(4.0)]
    assert b.call_count == 1
    # Once the pause is over nobody waits.
    await client.payouts.retrieve("b")
    assert len(clock.sleeps) == 1


async def test_retry_after_is_capped_in_the_pause_gate_too(client, router, clock):
    router.get(f"{PAYOUTS}/a").mock(
        return_value=jresp(429, {"message": "slow"}, {"Retry-After": "86400"})
    )
    router.get(f"{PAYOUTS}/b").mock(return_value=jresp(200, payout_json(id="b")))
    with pytest.raises(RateLimitError):
        await client.payouts.retrieve("a", max_retries=0)
    await client.payouts.retrieve("b")
    assert clock.sleeps == [pytest.approx(60.0)]


# -- the pause gate: counted, readable, logged at most every few seconds ------------------


async def test_the_pause_gate_keeps_count(client, router, clock):
    router.get(f"{PAYOUTS}/a").mock(
        return_value=jresp(429, {"message": "slow"}, {"Retry-After": "2"})
    )
    router.get(f"{PAYOUTS}/b").mock(return_value=jresp(200, payout_json(id="b")))
    gate = client.payouts.pause_gate
    assert gate.stats() == PauseStats()
    with pytest.raises(RateLimitError):
        await client.payouts.retrieve("a", max_retries=0)
    stats = gate.stats()
    assert (stats.pauses, stats.asks) == (1, 1)
    assert stats.paused
    assert stats.remaining == pytest.approx(2.0)
    clock.now += 0.5
    with pytest.raises(RateLimitError):  # waits out the pause, then asked again
        await client.payouts.retrieve("a", max_retries=0)
    stats = gate.stats()
    assert (stats.pauses, stats.asks) == (2, 2)  # the first pause had ended: a new one
    assert stats.paused_seconds == pytest.approx(2.0)  # the first, waited out in full
    await client.payouts.retrieve("b")  # waits for the second
    stats = gate.stats()
    assert not stats.paused
    assert stats.paused_seconds == pytest.approx(4.0)


def test_the_gate_says_whether_a_pause_was_ever_set():
    # The pipeline awaits the gate only once it was ever paused.
    now = [0.0]
    gate = PauseGate(clock=lambda: now[0])
    assert not gate.ever_paused
    gate.pause(1.0)
    assert gate.ever_paused
    now[0] = 5.0  # over, but waiting still reads the clock once
    assert gate.ever_paused
    assert not gate.stats().paused


def test_overlapping_asks_extend_one_pause():
    now = [0.0]
    gate = PauseGate(clock=lambda: now[0])
    gate.pause(1.0)
    now[0] = 0.5
    gate.pause(1.0)  # until 1.5: the same pause, extended by half a second
    gate.pause(0.2)  # inside the current one: counted as an ask, changes nothing
    now[0] = 2.0
    stats = gate.stats()
    assert (stats.pauses, stats.asks) == (1, 3)
    assert stats.paused_seconds == pytest.approx(1.5)
    assert not stats.paused


def test_slow_down_is_logged_at_most_every_few_seconds(caplog):
    now = [0.0]
    gate = PauseGate(clock=lambda: now[0], log_interval=5.0)
    with caplog.at_level(logging.WARNING, logger="ecartpay_async"):
        for step in range(200):  # a 429 every 50 ms for 10 s
            now[0] = step * 0.05
            gate.pause(1.0)
    lines = [r.getMessage() for r in caplog.records if "slow down" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0] == "server asked to slow down: pausing requests for 1.00s"
    assert lines[1] == (
        "server asked to slow down (100 times since the last message): "
        "pausing requests for 1.00s"
    )
