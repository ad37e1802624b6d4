"""Token auth: Basic exchange, bare token, cache, JWT lifetime, refresh, single-flight, 401."""

from __future__ import annotations

import base64
import json

import anyio
import httpx
import pytest
import respx
from client_fakes import (
    BASIC,
    PAYOUTS,
    PRIVATE,
    PUBLIC,
    TOKEN,
    TOKEN2,
    b64url,
    jresp,
    make_jwt,
    payout_json,
    token_response,
)

from ecartpay_async import APIResponseError, AuthenticationError
from ecartpay_async._auth import Secret, TokenCache, basic_credentials, token_lifetime

pytestmark = [pytest.mark.anyio, pytest.mark.clock]

PAYOUT_ID = "61a53cd3f6ea776ee3b37498"
GET_PATH = f"{PAYOUTS}/{PAYOUT_ID}"


# -- the exchange ----------------------------------------------------------------------


def test_basic_credentials_is_base64_of_public_colon_private():
    secret = basic_credentials(Secret(PUBLIC), Secret(PRIVATE))
    assert PUBLIC not in repr(secret)
    header = secret.get()
    assert header == f"Basic {BASIC}"
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{PUBLIC}:{PRIVATE}"


async def test_token_request_then_bare_token(client, router):
    get = router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    await client.payouts.retrieve(PAYOUT_ID)
    token_call = router["token"].calls[0].request
    assert token_call.method == "POST"
    assert token_call.headers["Authorization"] == f"Basic {BASIC}"
    assert token_call.content == b""
    api_call = get.calls[0].request
    assert api_call.headers["Authorization"] == TOKEN  # bare: no "Bearer "
    assert not api_call.headers["Authorization"].lower().startswith("bearer")


async def test_token_is_cached(client, router):
    get = router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    for _ in range(5):
        await client.payouts.retrieve(PAYOUT_ID)
    assert router["token"].call_count == 1
    assert get.call_count == 5


# -- JWT lifetime ------------------------------------------------------------------------


def test_token_lifetime_reads_exp_and_iat_without_verifying():
    assert token_lifetime(make_jwt(iat=1_700_000_000, lifetime=3600), now=0.0) == 3600
    assert token_lifetime(make_jwt(iat=1_700_000_000, lifetime=90), now=5e9) == 90
    # Without iat, exp is measured against the wall clock.
    no_iat = make_jwt(iat=None, exp=1_000_600)
    assert token_lifetime(no_iat, now=1_000_000.0) == 600


def test_a_real_ecartpay_sample_token_lives_an_hour():
    # The sample token from payouts.md (exp - iat == 3600).
    sample = (
        "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjY3MmE4NTAzNzFiZTBlY2Y1NTRkMDUxNiIsImFj"
        "Y291bnRfaWQiOiI2NzJhODUwMzcxYmUwZWNmNTU0ZDA1MGMiLCJpYXQiOjE3Mzg2OTA5NDQsImV4cCI6MTcz"
        "ODY5NDU0NH0.eJ7LOLmSwZBVcdol6_7trjeNQBQKjF0IGnJnWrqwpi80Fm5OlezbV2V0rhKmrFA5kW8o7REni"
        "USWEVCIQcrb4A"
    )
    assert token_lifetime(sample, now=0.0) == 3600


@pytest.mark.parametrize(
    "token",
    [
        "opaque-token",
        "a.b.c",
        "a.!!!.c",
        f"x.{b64url(b'not json')}.y",
        f"x.{b64url(json.dumps({'iat': 1}).encode())}.y",  # no exp
        f"x.{b64url(json.dumps({'exp': 'soon'}).encode())}.y",
        f"x.{b64url(json.dumps([1, 2]).encode())}.y",
    ],
)
def test_unreadable_exp_gives_none(token):
    assert token_lifetime(token, now=0.0) is None


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(tokens: list[str], clock: _Clock, **kwargs) -> tuple[TokenCache, list[str]]:
    issued: list[str] = []

    async def fetch() -> Secret:
        issued.append(tokens[len(issued)])
        return Secret(issued[-1])

    return TokenCache(fetch, clock=clock, wall_clock=lambda: 1_000_000.0, **kwargs), issued


async def test_refreshed_a_minute_before_an_hour_long_token_expires():
    clock = _Clock()
    cache, issued = _cache([TOKEN, TOKEN2], clock)
    assert await cache.get() == Secret(TOKEN)
    clock.now = 3539.0
    assert await cache.get() == Secret(TOKEN)
    assert len(issued) == 1
    clock.now = 3541.0
    assert await cache.get() == Secret(TOKEN2)
    assert len(issued) == 2


async def test_valid_reads_the_token_only_while_get_would_not_fetch():
    # The pipeline reads valid() first and awaits get() only when it says None.
    clock = _Clock()
    cache, issued = _cache([TOKEN, TOKEN2], clock)
    assert cache.valid() is None  # nothing fetched yet
    assert await cache.get() == Secret(TOKEN)
    assert cache.valid() == Secret(TOKEN)
    clock.now = 3541.0  # due for the early refresh: get() would fetch
    assert cache.valid() is None
    assert await cache.get() == Secret(TOKEN2)
    cache.invalidate(Secret(TOKEN2))
    assert cache.valid() is None
    assert len(issued) == 2


async def test_short_tokens_refresh_ten_percent_early():
    clock = _Clock()
    cache, issued = _cache([make_jwt(lifetime=100), TOKEN2], clock)
    await cache.get()
    clock.now = 89.0
    await cache.get()
    assert len(issued) == 1
    clock.now = 91.0
    assert await cache.get() == Secret(TOKEN2)


async def test_lifetime_counts_from_arrival_not_from_the_local_wall_clock():
    # iat/exp far in the past by our wall clock: exp - iat still gives an hour.
    clock = _Clock()
    clock.now = 500.0
    cache, issued = _cache([make_jwt(iat=1_000, lifetime=3600), TOKEN2], clock)
    await cache.get()
    clock.now = 500.0 + 3500
    await cache.get()
    assert len(issued) == 1


async def test_exp_without_iat_uses_the_wall_clock():
    clock = _Clock()
    cache, issued = _cache([make_jwt(iat=None, exp=1_000_600), TOKEN2], clock)
    await cache.get()
    clock.now = 539.0
    await cache.get()
    assert len(issued) == 1
    clock.now = 541.0
    assert await cache.get() == Secret(TOKEN2)


@pytest.mark.parametrize(("fallback", "kept_until"), [(None, 50 * 60 - 60), (100.0, 90.0)])
async def test_fallback_lifetime_when_exp_is_unreadable(fallback, kept_until):
    clock = _Clock()
    kwargs = {} if fallback is None else {"fallback_ttl": fallback}
    cache, _issued = _cache(["opaque-1", "opaque-2"], clock, **kwargs)
    assert await cache.get() == Secret("opaque-1")
    clock.now = kept_until - 1
    assert await cache.get() == Secret("opaque-1")
    clock.now = kept_until + 1
    assert await cache.get() == Secret("opaque-2")


async def test_invalidate_drops_only_the_refused_token():
    clock = _Clock()
    cache, issued = _cache([TOKEN, TOKEN2, "third"], clock)
    await cache.get()
    cache.invalidate(Secret("some-older-token"))
    assert await cache.get() == Secret(TOKEN)
    cache.invalidate(Secret(TOKEN))
    assert await cache.get() == Secret(TOKEN2)
    assert len(issued) == 2


def test_token_cache_repr_hides_the_token():
    cache = TokenCache(lambda: None)  # type: ignore[arg-type,return-value]
    cache._store(Secret(TOKEN))
    assert TOKEN not in repr(cache)
    assert TOKEN not in str(cache)


# -- single flight ------------------------------------------------------------------------


async def test_200_concurrent_calls_make_one_token_request(client, router):
    release = anyio.Event()
    hit = anyio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        hit.set()
        await release.wait()
        return token_response()

    router["token"].mock(side_effect=slow_token)
    get = router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    results = []

    async def one() -> None:
        results.append(await client.payouts.retrieve(PAYOUT_ID))

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(one)
        await hit.wait()
        await anyio.wait_all_tasks_blocked()  # everyone is queued behind the fetch
        assert get.call_count == 0
        release.set()
    assert router["token"].call_count == 1
    assert get.call_count == 200
    assert len(results) == 200
    assert {c.request.headers["Authorization"] for c in get.calls} == {TOKEN}


async def test_a_failed_fetch_is_shared_by_everyone_waiting_for_it():
    """Bad keys with 50 tasks waiting: one token request, fifty errors (not fifty requests)."""
    release = anyio.Event()
    calls = 0

    async def fetch() -> Secret:
        nonlocal calls
        calls += 1
        await release.wait()
        raise AuthenticationError("the API refused the key pair", status_code=401)

    cache = TokenCache(fetch)
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await cache.get()
        except AuthenticationError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert calls == 1
    assert len(errors) == 50
    # A later call tries again (the failure is not cached for new callers).
    with pytest.raises(AuthenticationError):
        await cache.get()
    assert calls == 2


async def test_bad_keys_with_many_concurrent_calls_make_one_token_request(client, router):
    router["token"].mock(return_value=jresp(401, {"message": "Unauthorized", "statusCode": 401}))
    get = router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    failures = []

    async def one() -> None:
        try:
            await client.payouts.retrieve(PAYOUT_ID)
        except AuthenticationError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(one)
    assert len(failures) == 30
    assert router["token"].call_count == 1
    assert get.call_count == 0


# -- 401 from an API call -------------------------------------------------------------------


@pytest.mark.parametrize("refusal", [
    jresp(401, {"message": "jwt expired", "statusCode": 401}),
    # Ecart Pay documents its errors as HTTP 500 with the status in the body: the
    # declared 401 is what every rule reads, the token refresh too.
    jresp(500, {"message": "jwt expired", "statusCode": 401}),
], ids=["401", "500-declaring-401"])
async def test_401_refreshes_once_and_replays_once(client, router, refusal):
    router["token"].mock(side_effect=[token_response(TOKEN), token_response(TOKEN2)])
    get = router.get(GET_PATH).mock(side_effect=[refusal, jresp(200, payout_json())])
    payout = await client.payouts.retrieve(PAYOUT_ID)
    assert payout.id == PAYOUT_ID
    assert [c.request.headers["Authorization"] for c in get.calls] == [TOKEN, TOKEN2]
    assert router["token"].call_count == 2


async def test_second_401_is_an_authentication_error_and_not_retried(client, router, clock):
    router["token"].mock(side_effect=[token_response(TOKEN), token_response(TOKEN2)])
    get = router.get(GET_PATH).mock(
        return_value=jresp(401, {"message": "Unauthorized", "statusCode": 401})
    )
    with pytest.raises(AuthenticationError) as info:
        await client.payouts.retrieve(PAYOUT_ID)
    assert info.value.status_code == 401
    assert info.value.path == GET_PATH
    assert get.call_count == 2
    assert router["token"].call_count == 2
    assert clock.sleeps == []


async def test_concurrent_401s_share_one_refresh(client, router):
    async def api(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == TOKEN:
            return jresp(401, {"message": "jwt expired", "statusCode": 401})
        return jresp(200, payout_json())

    router["token"].mock(side_effect=[token_response(TOKEN), token_response(TOKEN2)])
    get = router.get(GET_PATH).mock(side_effect=api)
    await client.payouts.retrieve(PAYOUT_ID)  # TOKEN refused, TOKEN2 cached
    router["token"].mock(side_effect=[token_response("never-used")])
    # Now expire TOKEN2 server-side for everyone at once.

    async def api2(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == TOKEN2:
            return jresp(401, {"message": "jwt expired", "statusCode": 401})
        return jresp(200, payout_json())

    third = make_jwt(nonce="third")
    router["token"].mock(side_effect=[token_response(third)])
    get.mock(side_effect=api2)
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(client.payouts.retrieve, PAYOUT_ID)
    assert router["token"].call_count == 3  # TOKEN, TOKEN2, third: one refresh per expiry


async def test_bad_keys_are_an_authentication_error_not_retried(client, router, clock):
    router["token"].mock(
        return_value=jresp(401, {"message": "Invalid credentials", "statusCode": 401})
    )
    get = router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    with pytest.raises(AuthenticationError) as info:
        await client.payouts.retrieve(PAYOUT_ID)
    assert "Invalid credentials" in info.value.message
    assert "key" in info.value.message
    assert info.value.path == "/api/authorizations/token"
    assert router["token"].call_count == 1
    assert get.call_count == 0
    assert clock.sleeps == []


async def test_token_request_5xx_is_retried(client, router, clock):
    router["token"].mock(side_effect=[httpx.Response(503), token_response()])
    router.get(GET_PATH).mock(return_value=jresp(200, payout_json()))
    await client.payouts.retrieve(PAYOUT_ID)
    assert router["token"].call_count == 2
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, [1]])
async def test_token_answer_without_token_is_a_response_error(
    body, client, router: respx.MockRouter
):
    router["token"].mock(return_value=jresp(200, body))
    with pytest.raises(APIResponseError, match="token"):
        await client.with_options(max_retries=0).payouts.retrieve(PAYOUT_ID)
