"""``client.orders`` against a scripted transport: bodies, validation, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ecartpay_async import _json
from ecartpay_async._retry import RetryPolicy
from ecartpay_async.client import AsyncClient
from ecartpay_async.errors import APIConnectionError, InternalServerError, ValidationError
from ecartpay_async.models.orders import Order, OrderItem, OrderPayout, OrderStatus

pytestmark = pytest.mark.anyio

MERCHANT = "merchant@example.com"
SELLER = "seller@example.com"
ORDER = {
    "id": "ord_1",
    "number": "OR0000057966",
    "status": "created",
    "currency": "MXN",
    "totals": {"subtotal": Decimal(1000), "total": Decimal(1000)},
    "payout": {"email": SELLER, "amount": Decimal(100), "percent": True, "_id": "po_1"},
}

Responder = Callable[[httpx.Request], httpx.Response]


class FakeAPI:
    """Answers the token request itself; other requests go to queued responders."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responders: list[Responder] = []

    def answer(self, status: int = 200, body: Any = ORDER, **kwargs: Any) -> None:
        content = _json.dumps(body)
        self.responders.append(lambda _: httpx.Response(status, content=content, **kwargs))

    def fail(self, exc: type[httpx.TransportError]) -> None:
        def raise_(request: httpx.Request) -> httpx.Response:
            raise exc("scripted failure", request=request)

        self.responders.append(raise_)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/authorizations/token":
            return httpx.Response(200, json={"token": "tok"})
        self.requests.append(request)
        return self.responders.pop(0)(request)

    def body(self, index: int = -1) -> Any:
        return _json.loads(self.requests[index].content)


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
async def client(api: FakeAPI) -> AsyncIterator[AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(api.handle))
    async with (
        http,
        AsyncClient(
            public_key="pk_test",
            private_key="sk_test",
            base_url="http://api.test",
            http_client=http,
            retry_policy=RetryPolicy(sleep=no_sleep),
            account_email=MERCHANT,
        ) as client,
    ):
        yield client


async def test_create_sends_the_documented_body(client: AsyncClient, api: FakeAPI) -> None:
    api.answer()
    order = await client.orders.create(
        customer_id="65c41df54ec03a5080230789",
        currency="mxn",
        items=[OrderItem("Brazalete", 1, 1000, code="123")],
        payout=OrderPayout(SELLER, 100, percent=True),
        notify_url="https://shop.example/hooks",
        redirect_url="https://shop.example/thanks",
    )
    assert isinstance(order, Order)
    assert order.payout is not None
    assert order.payout.id == "po_1"
    request = api.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/orders")
    assert request.headers["authorization"] == "tok"
    assert request.content == (
        b'{"customer_id":"65c41df54ec03a5080230789","currency":"MXN",'
        b'"items":[{"code":"123","name":"Brazalete","quantity":1,"price":1000.00}],'
        b'"notify_url":"https://shop.example/hooks","redirect_url":"https://shop.example/thanks",'
        b'"payout":{"email":"seller@example.com","amount":100,"percent":true}}'
    )


async def test_documented_requests_round_trip(
    client: AsyncClient, api: FakeAPI, order_examples: dict[str, Any]
) -> None:
    for name in ("doc_request_fixed", "doc_request_percent", "doc_request_full"):
        documented = dict(order_examples[name])
        documented["payout"] = {**documented["payout"], "email": SELLER}  # obfuscated on the page
        api.answer()
        await client.orders.create(**documented)
        assert api.body() == documented


async def test_mappings_equal_models(client: AsyncClient, api: FakeAPI) -> None:
    api.answer()
    api.answer()
    await client.orders.create(
        currency="MXN",
        items=[{"name": "A", "quantity": 2, "price": "10.50"}],
        payout={"email": SELLER, "amount": "25.00"},
    )
    await client.orders.create(
        currency="MXN", items=[OrderItem("A", 2, "10.50")], payout=OrderPayout(SELLER, 25)
    )
    assert api.requests[0].content == api.requests[1].content


async def test_extra_body(
    client: AsyncClient, api: FakeAPI, order_examples: dict[str, Any]
) -> None:
    request = dict(order_examples["openapi_create_order_request"])
    currency, items = request.pop("currency"), request.pop("items")
    api.answer()
    await client.orders.create(currency=currency, items=items, extra_body=request)
    assert api.body() == order_examples["openapi_create_order_request"]
    with pytest.raises(ValidationError) as info:
        await client.orders.create(currency="MXN", items=items, extra_body={"currency": "USD"})
    assert info.value.field == "currency"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"payout": OrderPayout(MERCHANT, 10)}, "payout.email"),
        ({"payout": {"email": "Merchant@Example.COM", "amount": 10}}, "payout.email"),
        ({"payout": {"email": SELLER, "amount": 0}}, "payout.amount"),
        ({"payout": {"email": SELLER, "amount": 101, "percent": True}}, "payout.amount"),
        ({"payout": {"email": SELLER, "amount": 1, "percent": "no"}}, "payout.percent"),
        ({"payout": {"amount": 1}}, "payout.email"),
        ({"payout": ("x", 1)}, "payout"),
        ({"payout": OrderPayout(SELLER, "10.50"), "currency": "CLP"}, "payout.amount"),
        (
            {"items": [{"name": "A", "quantity": 1, "price": "9.99"}], "currency": "CLP"},
            "items[0].price",
        ),
        (
            {"items": [OrderItem("A", 1, 1), {"name": "B", "quantity": 0, "price": 1}]},
            "items[1].quantity",
        ),
        ({"items": [OrderItem("A", 1, 1), "B"]}, "items[1]"),
        ({"items": []}, "items"),
        ({"items": {"name": "A", "quantity": 1, "price": 1}}, "items"),
        ({"currency": "XXX"}, "currency"),
        ({"customer_id": " "}, "customer_id"),
        ({"notify_url": 5}, "notify_url"),
    ],
)
async def test_create_refuses_before_sending(
    client: AsyncClient, api: FakeAPI, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"currency": "MXN", "items": [OrderItem("A", 1, 1)], **kwargs}
    with pytest.raises(ValidationError) as info:
        await client.orders.create(**arguments)
    assert info.value.field == field
    assert api.requests == []


async def test_own_email_allowed_without_account_email(api: FakeAPI) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(api.handle))
    async with http, AsyncClient("pk", "sk", base_url="http://api.test", http_client=http) as c:
        api.answer()
        await c.orders.create(
            currency="MXN", items=[OrderItem("A", 1, 1)], payout=OrderPayout(MERCHANT, 1)
        )
    assert api.body()["payout"]["email"] == MERCHANT


async def test_create_not_repeated_after_an_ambiguous_failure(
    client: AsyncClient, api: FakeAPI
) -> None:
    api.answer(502, {"message": "bad gateway"})
    with pytest.raises(InternalServerError):
        await client.orders.create(currency="MXN", items=[OrderItem("A", 1, 1)])
    api.fail(httpx.ReadTimeout)
    with pytest.raises(APIConnectionError):
        await client.orders.create(currency="MXN", items=[OrderItem("A", 1, 1)])
    assert len(api.requests) == 2


async def test_create_retried_when_never_sent(client: AsyncClient, api: FakeAPI) -> None:
    api.fail(httpx.ConnectError)
    api.answer(429, {"message": "slow down"}, headers={"Retry-After": "0"})
    api.answer()
    order = await client.orders.create(currency="MXN", items=[OrderItem("A", 1, 1)])
    assert order.id == "ord_1"
    assert len(api.requests) == 3


async def test_retrieve(client: AsyncClient, api: FakeAPI) -> None:
    api.answer(502, {"message": "bad gateway"})
    api.answer(body={**ORDER, "status": "paid", "fee": Decimal("37.82")})
    order = await client.orders.retrieve("ord/1")
    assert order.status is OrderStatus.PAID
    assert order.fee == Decimal("37.82")
    assert api.requests[-1].url.raw_path == b"/api/orders/ord%2F1"
    assert len(api.requests) == 2  # reads are retried
    with pytest.raises(ValidationError):
        await client.orders.retrieve("")


async def test_refund_amount(client: AsyncClient, api: FakeAPI) -> None:
    api.answer(body={**ORDER, "status": "partially_refunded"})
    order = await client.orders.refund("ord_1", amount="50.00", reason="duplicate")
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    request = api.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/orders/ord_1/refund")
    assert request.content == b'{"amount":50.00,"name":"duplicate"}'


async def test_refund_everything_reads_the_total(client: AsyncClient, api: FakeAPI) -> None:
    api.answer(body={**ORDER, "status": "paid"})
    api.answer(body={"message": "refund created"})
    api.answer(body={**ORDER, "status": "refunded"})
    order = await client.orders.refund("ord_1")
    assert order.status is OrderStatus.REFUNDED
    assert [r.method for r in api.requests] == ["GET", "POST", "GET"]
    assert api.body(1) == {"amount": 1000, "name": "requested"}


async def test_refund_refusals(client: AsyncClient, api: FakeAPI) -> None:
    with pytest.raises(ValidationError) as info:
        await client.orders.refund("ord_1", amount=1, reason="bored")  # type: ignore[arg-type]
    assert info.value.field == "reason"
    with pytest.raises(ValidationError) as info:
        await client.orders.refund("ord_1", amount="0.001")
    assert info.value.field == "amount"
    api.answer(body={**ORDER, "status": "partially_refunded"})
    with pytest.raises(ValidationError) as info:
        await client.orders.refund("ord_1")
    assert info.value.field == "amount"
    assert [r.method for r in api.requests] == ["GET"]


async def test_refund_not_repeated_after_an_ambiguous_failure(
    client: AsyncClient, api: FakeAPI
) -> None:
    api.answer(500, {"message": "oops"})
    with pytest.raises(InternalServerError):
        await client.orders.refund("ord_1", amount=10)
    assert len(api.requests) == 1
