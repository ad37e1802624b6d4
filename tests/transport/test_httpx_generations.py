"""Both httpx generations: a user's httpx or httpx2 client or transport, the same errors.

httpx2 (the maintained fork: same API, distinct classes) is what openai-python 3 and
anthropic 1 run on; their users' clients, transports and mocks (``MockTransport``)
must work here as httpx's do, and a failure from either must become the same SDK
error, with the same "may it have been processed?" answer.
"""

from __future__ import annotations

import json
from decimal import Decimal
from types import ModuleType
from typing import Any

import anyio
import httpx
import httpx2
import pytest

from ecartpay_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    ConflictError,
    RetryPolicy,
)

pytestmark = pytest.mark.anyio

BASE = "https://api.ecartpay.test"
MODULES = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2")]


async def no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


class FakeApi:
    """An in-memory API behind either generation's ``MockTransport``; the first
    ``fail_posts`` payout POSTs raise ``failure`` (after creating the payout when
    ``created``)."""

    def __init__(self, module: ModuleType, failure: str | None = None,
                 fail_posts: int = 1, created: bool = True) -> None:
        self.module = module
        self.failure = failure
        self.fail_posts = fail_posts
        self.created = created
        self.payouts: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self.lookups = 0

    def __call__(self, request: Any) -> Any:
        module = self.module
        path = request.url.path
        if path == "/api/authorizations/token":
            return module.Response(200, json={"token": "tok"})
        if request.method == "GET" and path == "/api/payouts":
            self.lookups += 1
            ref = request.url.params.get("reference_id")
            return module.Response(200, json=[self.payouts[ref]] if ref in self.payouts else [])
        if request.method == "POST" and path == "/api/payouts":
            self.posts += 1
            body = json.loads(request.content)
            payout = {"id": f"po_{self.posts}", "status": "paid", **body}
            if self.failure and self.posts <= self.fail_posts:
                if self.created:
                    self.payouts[body["reference_id"]] = payout
                raise getattr(module, self.failure)("injected", request=request)
            self.payouts.setdefault(body["reference_id"], payout)
            return module.Response(200, json=self.payouts[body["reference_id"]],
                                   headers={"x-request-id": "req_1"})
        return module.Response(409, json={"message": "refused", "statusCode": 409},
                               headers={"x-request-id": "req_2"})


def client_for(module: ModuleType, api: FakeApi, way: str) -> AsyncClient:
    transport = module.MockTransport(api)
    options: dict[str, Any] = {
        "base_url": BASE, "retry_policy": RetryPolicy(sleep=no_wait),
    }
    if way == "http_client":
        options["http_client"] = module.AsyncClient(transport=transport)
    else:
        options["transport"] = transport
    return AsyncClient("pub", "priv", **options)


async def pay(client: AsyncClient, reference: str = "ref-1") -> Any:
    return await client.payouts.send(
        _request(reference), max_retries=2,
    )


def _request(reference: str) -> Any:
    from ecartpay_async import PayoutRequest

    return PayoutRequest(email="ana@example.com", reference_id=reference,
                         amount=Decimal("12.50"), currency="MXN")


@pytest.mark.parametrize("way", ["http_client", "transport"])
@pytest.mark.parametrize("module", MODULES)
async def test_a_payout_through_either_generation(module: ModuleType, way: str) -> None:
    api = FakeApi(module)
    async with client_for(module, api, way) as client:
        raw = await client.payouts.with_raw_response.create(**{
            "email": "ana@example.com", "reference_id": "ref-1",
            "amount": Decimal("12.50"), "currency": "MXN",
        })
    assert raw.parsed.amount == Decimal("12.50")
    assert raw.request_id == "req_1"
    assert api.posts == 1


@pytest.mark.parametrize("module", MODULES)
async def test_an_error_answer_is_the_same_error(module: ModuleType) -> None:
    async with client_for(module, FakeApi(module), "http_client") as client:
        with pytest.raises(ConflictError) as caught:
            await client.payouts.retrieve("po_1", max_retries=0)
    assert caught.value.request_id == "req_2"


@pytest.mark.parametrize("module", MODULES)
async def test_a_timeout_after_sending_is_looked_up_not_resent(module: ModuleType) -> None:
    api = FakeApi(module, failure="ReadTimeout", created=True)
    async with client_for(module, api, "http_client") as client:
        result = await pay(client)
    assert result.recovered
    assert (api.posts, api.lookups) == (1, 1)


@pytest.mark.parametrize("module", MODULES)
async def test_a_refused_connection_is_resent_without_a_lookup(module: ModuleType) -> None:
    api = FakeApi(module, failure="ConnectError", created=False)
    async with client_for(module, api, "transport") as client:
        result = await pay(client)
    assert not result.recovered
    assert (api.posts, api.lookups) == (2, 0)


@pytest.mark.parametrize(("failure", "error", "maybe"), [
    ("ConnectError", APIConnectionError, False),
    ("ConnectTimeout", APITimeoutError, False),
    ("PoolTimeout", APITimeoutError, False),
    ("ReadTimeout", APITimeoutError, True),
    ("WriteError", APIConnectionError, True),
    ("RemoteProtocolError", APIConnectionError, True),
])
@pytest.mark.parametrize("module", MODULES)
async def test_each_failure_maps_to_the_same_sdk_error(
    module: ModuleType, failure: str, error: type[Exception], maybe: bool
) -> None:
    api = FakeApi(module, failure=failure, fail_posts=9, created=False)
    async with client_for(module, api, "http_client") as client:
        with pytest.raises(error) as caught:
            await client.payouts.send(_request("ref-x"), max_retries=0)
    assert type(caught.value) is error
    assert caught.value.maybe_processed is maybe  # type: ignore[attr-defined]
    assert failure in str(caught.value)


@pytest.mark.parametrize("option", ["http_client", "transport"])
async def test_an_object_of_neither_kind_is_a_clear_type_error(option: str) -> None:
    wrong: dict[str, Any] = {
        "http_client": httpx.MockTransport(lambda r: httpx.Response(200)),  # not a client
        "transport": httpx2.AsyncClient(),  # not a transport
    }
    with pytest.raises(TypeError, match=rf"{option}= takes an httpx\.\w+ or an httpx2\.\w+"):
        AsyncClient("pub", "priv", base_url=BASE, **{option: wrong[option]})
    with pytest.raises(TypeError, match="not object"):
        AsyncClient("pub", "priv", base_url=BASE, **{option: object()})
