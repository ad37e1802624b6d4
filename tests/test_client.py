"""AsyncClient: keys, environments, base_url, lifetime of the pool, with_options, headers."""

from __future__ import annotations

import platform

import httpx
import pytest
import respx
from client_fakes import (
    BASE,
    BASIC,
    PAYOUTS,
    PRIVATE,
    PUBLIC,
    TOKEN,
    TOKEN_PATH,
    FakeTime,
    build_client,
    jresp,
    payout_json,
    token_response,
)

import ecartpay_async
from ecartpay_async import AsyncClient, ConfigurationError, RetryPolicy
from ecartpay_async.client import DEFAULT_LIMITS
from ecartpay_async.transport import AutoTransport, TransportConfig

pytestmark = pytest.mark.anyio

PAYOUT_ID = "61a53cd3f6ea776ee3b37498"


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECARTPAY_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("ECARTPAY_PRIVATE_KEY", raising=False)


def _mock_payout(router: respx.MockRouter) -> respx.Route:
    return router.get(f"{PAYOUTS}/{PAYOUT_ID}", name="get").mock(
        return_value=jresp(200, payout_json())
    )


# -- keys ------------------------------------------------------------------------


async def test_keys_from_arguments_are_sent_as_basic(router, http_client, clock):
    _mock_payout(router)
    async with build_client(http_client, clock) as client:
        await client.payouts.retrieve(PAYOUT_ID)
    assert router["token"].call_count == 1
    assert router["token"].calls[0].request.headers["Authorization"] == f"Basic {BASIC}"


async def test_keys_from_environment(router, http_client, clock, monkeypatch):
    monkeypatch.setenv("ECARTPAY_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("ECARTPAY_PRIVATE_KEY", PRIVATE)
    _mock_payout(router)
    async with build_client(http_client, clock, public_key=None, private_key=None) as client:
        await client.payouts.retrieve(PAYOUT_ID)
    assert router["token"].calls[0].request.headers["Authorization"] == f"Basic {BASIC}"


async def test_argument_keys_win_over_environment(router, http_client, clock, monkeypatch):
    monkeypatch.setenv("ECARTPAY_PUBLIC_KEY", "pk_env")
    monkeypatch.setenv("ECARTPAY_PRIVATE_KEY", "sk_env")
    _mock_payout(router)
    async with build_client(http_client, clock) as client:
        await client.payouts.retrieve(PAYOUT_ID)
    assert router["token"].calls[0].request.headers["Authorization"] == f"Basic {BASIC}"


@pytest.mark.parametrize(
    ("public", "private", "env", "missing"),
    [
        (None, None, {}, "ECARTPAY_PUBLIC_KEY"),
        (PUBLIC, None, {}, "ECARTPAY_PRIVATE_KEY"),
        (None, PRIVATE, {}, "ECARTPAY_PUBLIC_KEY"),
        ("   ", PRIVATE, {}, "ECARTPAY_PUBLIC_KEY"),
        (None, None, {"ECARTPAY_PUBLIC_KEY": PUBLIC, "ECARTPAY_PRIVATE_KEY": ""},
         "ECARTPAY_PRIVATE_KEY"),
    ],
)
async def test_missing_keys_fail_at_construction(public, private, env, missing, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with respx.mock(base_url=BASE, assert_all_mocked=True) as router:
        with pytest.raises(ConfigurationError, match=missing):
            AsyncClient(public, private, base_url=BASE)
        assert router.calls.call_count == 0


# -- where requests go ------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "origin"),
    [("sandbox", "https://sandbox.ecartpay.com"), ("production", "https://ecartpay.com")],
)
async def test_environment_selects_origin(environment, origin, http_client, clock):
    with respx.mock(base_url=origin, assert_all_called=True) as router:
        router.post(TOKEN_PATH).mock(return_value=token_response())
        get = router.get(f"{PAYOUTS}/{PAYOUT_ID}").mock(return_value=jresp(200, payout_json()))
        client = AsyncClient(
            PUBLIC, PRIVATE, environment=environment, http_client=http_client,
            retry_policy=RetryPolicy(sleep=clock.sleep),
        )
        async with client:
            assert client.base_url == origin
            await client.payouts.retrieve(PAYOUT_ID)
        assert str(get.calls[0].request.url) == f"{origin}/api/payouts/{PAYOUT_ID}"


def test_default_environment_is_sandbox(monkeypatch):
    monkeypatch.delenv("ECARTPAY_BASE_URL", raising=False)
    monkeypatch.delenv("ECARTPAY_ENVIRONMENT", raising=False)
    client = AsyncClient(PUBLIC, PRIVATE)
    assert client.base_url == "https://sandbox.ecartpay.com"


def test_the_base_url_and_environment_come_from_the_variables_the_cli_reads(monkeypatch):
    monkeypatch.setenv("ECARTPAY_BASE_URL", "http://127.0.0.1:8000/")
    assert AsyncClient(PUBLIC, PRIVATE).base_url == "http://127.0.0.1:8000"
    # An argument wins over the variables: environment="production" in code means it.
    assert AsyncClient(PUBLIC, PRIVATE, environment="production").base_url == (
        "https://ecartpay.com"
    )
    assert AsyncClient(PUBLIC, PRIVATE, base_url="http://127.0.0.1:9").base_url == (
        "http://127.0.0.1:9"
    )
    monkeypatch.delenv("ECARTPAY_BASE_URL")
    monkeypatch.setenv("ECARTPAY_ENVIRONMENT", "production")
    client = AsyncClient(PUBLIC, PRIVATE)
    assert (client.base_url, client.environment) == ("https://ecartpay.com", "production")
    monkeypatch.setenv("ECARTPAY_ENVIRONMENT", "staging")
    with pytest.raises(ConfigurationError, match="environment"):
        AsyncClient(PUBLIC, PRIVATE)


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"])
async def test_base_url_is_an_origin_and_the_sdk_adds_api(origin, http_client):
    with respx.mock(assert_all_called=True) as router:
        router.post("http://127.0.0.1:8000/api/authorizations/token").mock(
            return_value=token_response()
        )
        get = router.get(f"http://127.0.0.1:8000/api/payouts/{PAYOUT_ID}").mock(
            return_value=jresp(200, payout_json())
        )
        # base_url wins over environment.
        async with AsyncClient(
            PUBLIC, PRIVATE, base_url=origin, environment="production", http_client=http_client
        ) as client:
            await client.payouts.retrieve(PAYOUT_ID)
        assert get.call_count == 1


@pytest.mark.parametrize(
    "base_url",
    ["ftp://example.com", "not a url", "http://", "example.com", "http://[::1", "http://x?y=1"],
)
def test_bad_base_url_is_a_configuration_error(base_url):
    with pytest.raises(ConfigurationError, match="base_url"):
        AsyncClient(PUBLIC, PRIVATE, base_url=base_url)


def test_unknown_environment_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="environment"):
        AsyncClient(PUBLIC, PRIVATE, environment="staging")  # type: ignore[arg-type]


def test_other_bad_options():
    with pytest.raises(ConfigurationError, match="max_retries"):
        AsyncClient(PUBLIC, PRIVATE, max_retries=-1)
    with pytest.raises(ConfigurationError, match="limits"):
        AsyncClient(PUBLIC, PRIVATE, http_client=httpx.AsyncClient(), limits=httpx.Limits())
    client = AsyncClient(PUBLIC, PRIVATE)
    with pytest.raises(ConfigurationError, match="max_retries"):
        client.with_options(max_retries=-1)


def test_network_options_are_checked_at_construction():
    for bad in (0, -1, 1.5):
        with pytest.raises(ConfigurationError, match="max_response_bytes"):
            AsyncClient(PUBLIC, PRIVATE, max_response_bytes=bad)  # type: ignore[arg-type]
    mock = httpx.MockTransport(lambda r: httpx.Response(200))
    with pytest.raises(ConfigurationError, match="verify"):
        AsyncClient(PUBLIC, PRIVATE, transport=mock, verify=False)


def test_transport_option_is_exclusive_with_the_others():
    with pytest.raises(ConfigurationError, match="transport"):
        AsyncClient(PUBLIC, PRIVATE, transport=httpx.MockTransport(lambda r: httpx.Response(200)),
                    limits=httpx.Limits())


@pytest.mark.anyio
async def test_a_given_transport_carries_every_request_and_is_closed_with_the_client():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"token": "a.b.c"})
        return httpx.Response(200, json={"id": "p1", "status": "paid", "amount": 10,
                                         "currency": "MXN"})

    class Recording(httpx.MockTransport):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    transport = Recording(answer)
    async with AsyncClient(PUBLIC, PRIVATE, transport=transport) as client:
        payout = await client.payouts.retrieve("p1")
    assert payout.id == "p1"
    assert seen == ["/api/authorizations/token", "/api/payouts/p1"]
    assert transport.closed


# -- the pool: owned or lent ----------------------------------------------------------


class _RecordingTransport(AutoTransport):
    """Stands in for the SDK's default transport to see how it is built and closed.

    It runs httpx's own transport underneath, so respx can answer its requests.
    """

    made: list[tuple[_RecordingTransport, TransportConfig]] = []

    def __init__(self, config: TransportConfig) -> None:
        super().__init__(config, prefer="httpx")
        self.closed = False
        _RecordingTransport.made.append((self, config))

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


@pytest.fixture
def recording_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[_RecordingTransport, TransportConfig]]:
    _RecordingTransport.made = []
    monkeypatch.setattr(ecartpay_async.client, "AutoTransport", _RecordingTransport)
    return _RecordingTransport.made


async def test_default_pool_has_explicit_limits_and_timeouts(recording_pool):
    client = AsyncClient(PUBLIC, PRIVATE, base_url=BASE)
    (pool, config), = recording_pool
    limits = config.limits
    assert isinstance(limits, httpx.Limits)
    assert limits == DEFAULT_LIMITS
    assert limits.max_connections is not None
    assert limits.max_connections >= 64
    assert limits.max_keepalive_connections is not None
    assert limits.keepalive_expiry is not None
    assert limits.keepalive_expiry < 5  # below common server idle timeouts
    for phase in ("connect", "read", "write", "pool"):
        assert getattr(client.timeout, phase) is not None, phase
    await client.aclose()
    assert pool.closed


async def test_explicit_limits_reach_the_default_pool(recording_pool):
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=3)
    async with AsyncClient(PUBLIC, PRIVATE, base_url=BASE, limits=limits):
        (_, config), = recording_pool
        assert config.limits is limits


async def test_async_with_closes_the_pool_it_owns(recording_pool, router):
    router.get(f"{PAYOUTS}/{PAYOUT_ID}").mock(return_value=jresp(200, payout_json()))
    async with AsyncClient(
        PUBLIC, PRIVATE, base_url=BASE, retry_policy=RetryPolicy(sleep=FakeTime().sleep)
    ) as client:
        (pool, _), = recording_pool
        await client.payouts.retrieve(PAYOUT_ID)
        assert not pool.closed
    assert pool.closed


async def test_never_closes_a_lent_pool(router, clock):
    router.get(f"{PAYOUTS}/{PAYOUT_ID}").mock(return_value=jresp(200, payout_json()))
    http = httpx.AsyncClient()
    async with build_client(http, clock) as client:
        await client.payouts.retrieve(PAYOUT_ID)
    assert not http.is_closed
    client2 = build_client(http, clock)
    await client2.aclose()
    await client2.aclose()  # twice is harmless
    assert not http.is_closed
    # and it still works for its owner
    assert (await http.get(f"{BASE}{PAYOUTS}/{PAYOUT_ID}")).status_code == 200
    await http.aclose()


async def test_respx_mocks_the_sdk_through_a_users_own_client():
    """The documented way to test code that uses the SDK: respx + your own httpx client."""
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        with respx.mock(base_url="https://sandbox.ecartpay.com", assert_all_called=True) as mock:
            mock.post(TOKEN_PATH).mock(return_value=token_response())
            mock.post(PAYOUTS).mock(return_value=jresp(200, payout_json()))
            async with AsyncClient(PUBLIC, PRIVATE, http_client=http) as client:
                payout = await client.payouts.create(
                    email="ana@example.com", reference_id="payroll-2026-11-0001",
                    amount="1250.50", currency="MXN",
                )
        assert payout.id == PAYOUT_ID
        assert seen == [f"POST {TOKEN_PATH}", f"POST {PAYOUTS}"]  # through the user's client
        assert not http.is_closed


# -- with_options -----------------------------------------------------------------------


async def test_with_options_shares_pool_and_token(router, http_client, clock):
    get = _mock_payout(router)
    async with build_client(http_client, clock, max_retries=3) as client:
        fast = client.with_options(max_retries=0, timeout=5.0)
        assert fast.max_retries == 0
        assert client.max_retries == 3
        assert fast.timeout == httpx.Timeout(5.0)
        assert client.timeout != httpx.Timeout(5.0)
        await client.payouts.retrieve(PAYOUT_ID)
        await fast.payouts.retrieve(PAYOUT_ID)
        await fast.with_options(max_retries=1).payouts.retrieve(PAYOUT_ID)
    assert router["token"].call_count == 1  # one token for the whole family
    assert [c.request.headers["Authorization"] for c in get.calls] == [TOKEN] * 3
    assert get.calls[0].request.extensions["timeout"]["read"] == client.timeout.read
    assert get.calls[1].request.extensions["timeout"] == httpx.Timeout(5.0).as_dict()


async def test_closing_a_derived_client_leaves_the_parent_working(router, clock):
    """``async with client.with_options(...) as c`` must not shut the parent's pool."""
    get = _mock_payout(router)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ecartpay_async.client, "AutoTransport", _RecordingTransport)
        _RecordingTransport.made = []
        client = AsyncClient(
            PUBLIC, PRIVATE, base_url=BASE, retry_policy=RetryPolicy(sleep=clock.sleep)
        )
    (pool, _), = _RecordingTransport.made
    async with client:
        async with client.with_options(max_retries=0) as derived:
            await derived.payouts.retrieve(PAYOUT_ID)
        assert not pool.closed
        await client.payouts.retrieve(PAYOUT_ID)
    assert pool.closed
    assert get.call_count == 2


async def test_with_options_max_retries_is_used(router, http_client, clock):
    get = router.get(f"{PAYOUTS}/{PAYOUT_ID}").mock(return_value=httpx.Response(500))
    async with build_client(http_client, clock, max_retries=3) as client:
        with pytest.raises(ecartpay_async.InternalServerError):
            await client.with_options(max_retries=1).payouts.retrieve(PAYOUT_ID)
        assert get.call_count == 2
        with pytest.raises(ecartpay_async.InternalServerError):
            await client.payouts.retrieve(PAYOUT_ID)
        assert get.call_count == 2 + 4


# -- headers --------------------------------------------------------------------------


async def test_user_agent_names_sdk_python_and_httpx(client, router):
    get = _mock_payout(router)
    await client.payouts.retrieve(PAYOUT_ID)
    for call in (router["token"].calls[0], get.calls[0]):
        agent = call.request.headers["User-Agent"]
        assert f"ecartpay-async/{ecartpay_async.__version__}" in agent
        assert f"Python/{platform.python_version()}" in agent
        assert f"httpx/{httpx.__version__}" in agent
    assert get.calls[0].request.headers["Accept"] == "application/json"


async def test_default_headers_are_sent_but_cannot_replace_the_token(router, http_client, clock):
    get = _mock_payout(router)
    async with build_client(
        http_client, clock, default_headers={"X-Trace": "abc", "Authorization": "nope"}
    ) as client:
        await client.payouts.retrieve(PAYOUT_ID)
        await client.with_options(default_headers={"X-Trace": "def"}).payouts.retrieve(PAYOUT_ID)
    assert [c.request.headers["X-Trace"] for c in get.calls] == ["abc", "def"]
    assert all(c.request.headers["Authorization"] == TOKEN for c in get.calls)


def test_repr_shows_no_keys():
    client = AsyncClient(PUBLIC, PRIVATE, base_url=BASE)
    text = repr(client) + str(client)
    assert PUBLIC not in text
    assert PRIVATE not in text
    assert BASE in text
