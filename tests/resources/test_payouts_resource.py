"""client.payouts: create, retrieve, list (pages, filters), update, confirm."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from client_fakes import PAYOUTS, REQUEST, jresp, payout_json, sent_json

from ecartpay_async import (
    APIResponseError,
    ConflictError,
    Payout,
    PayoutCharge,
    PayoutItem,
    PayoutStatus,
    ValidationError,
)

pytestmark = pytest.mark.anyio


# -- create -------------------------------------------------------------------------------


async def test_create_sends_the_exact_body(client, router):
    route = router.post(PAYOUTS).mock(return_value=jresp(200, payout_json()))
    payout = await client.payouts.create(**REQUEST, require_confirmation=False)
    request = route.calls[0].request
    assert request.content == (
        b'{"amount":1250.50,"currency":"MXN","email":"ana@example.com",'
        b'"reference_id":"payroll-2026-11-0001","require_confirmation":false}'
    )
    assert request.headers["Content-Type"] == "application/json"
    assert isinstance(payout, Payout)
    assert payout.amount == Decimal("1250.50")
    assert payout.status is PayoutStatus.PAID


@pytest.mark.parametrize(
    ("amount", "text"), [("1250.5", b"1250.50"), (10, b"10.00"), (0.1, b"0.10"),
                         (Decimal("99999999.99"), b"99999999.99")]
)
async def test_create_amount_is_json_number_text(amount, text, client, router):
    answer = payout_json(amount=Decimal(text.decode()))
    route = router.post(PAYOUTS).mock(return_value=jresp(200, answer))
    await client.payouts.create(**{**REQUEST, "amount": amount})
    assert route.calls[0].request.content.startswith(b'{"amount":' + text + b",")
    assert sent_json(route.calls[0])["amount"] == Decimal(text.decode())


async def test_create_customer_shape(client, router):
    route = router.post(PAYOUTS).mock(return_value=jresp(200, payout_json(
        customer_id="c1", payment_method_id="pm1", reference_id="r-9", amount=Decimal(10),
        require_confirmation=True)))
    await client.payouts.create(
        customer_id="c1", payment_method_id="pm1", reference_id="r-9", amount="10",
        currency="MXN", require_confirmation=True,
    )
    assert sent_json(route.calls[0]) == {
        "amount": Decimal("10.00"), "currency": "MXN", "reference_id": "r-9",
        "customer_id": "c1", "payment_method_id": "pm1", "require_confirmation": True,
    }


async def test_invalid_create_sends_nothing(client, router):
    with pytest.raises(ValidationError) as info:
        await client.payouts.create(**{**REQUEST, "email": "ana.example.com"})
    assert info.value.field == "email"
    with pytest.raises(ValidationError):
        await client.payouts.create(**{**REQUEST, "amount": "1.001"})
    assert router.calls.call_count == 0  # not even a token request


# -- retrieve -------------------------------------------------------------------------------


async def test_retrieve(client, router):
    route = router.get(f"{PAYOUTS}/61a53cd3").mock(return_value=jresp(200, payout_json()))
    payout = await client.payouts.retrieve("61a53cd3")
    assert payout.reference_id == "payroll-2026-11-0001"
    assert route.calls[0].request.content == b""


async def test_retrieve_quotes_the_id(client, router):
    route = router.get(url__regex=r"/api/payouts/.+").mock(return_value=jresp(200, payout_json()))
    await client.payouts.retrieve("a/b?c")
    assert route.calls[0].request.url.raw_path == b"/api/payouts/a%2Fb%3Fc"


@pytest.mark.parametrize("bad", ["", "  ", None, 12])
async def test_retrieve_refuses_empty_ids(bad, client, router):
    with pytest.raises(ValidationError) as info:
        await client.payouts.retrieve(bad)
    assert info.value.field == "payout_id"
    assert router.calls.call_count == 0


# -- list ---------------------------------------------------------------------------------


def _docs(*ids: str) -> list[dict]:
    return [payout_json(id=i, reference_id=f"ref-{i}") for i in ids]


async def test_list_walks_the_envelope_pages(client, router):
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        docs = {1: _docs("a", "b"), 2: _docs("c", "d"), 3: _docs("e")}[number]
        return jresp(200, {"count": 5, "docs": docs, "pages": 3})

    route = router.get(PAYOUTS).mock(side_effect=page)
    ids = [p.id async for p in client.payouts.list(limit=2)]
    assert ids == ["a", "b", "c", "d", "e"]
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2", "3"]
    assert {c.request.url.params["limit"] for c in route.calls} == {"2"}


async def test_list_filters_go_in_the_query(client, router):
    route = router.get(PAYOUTS).mock(return_value=jresp(200, {"count": 0, "docs": [],
                                                                "pages": 0}))
    assert [p async for p in client.payouts.list(status="pending", reference_id="r 1",
                                                 q="ana")] == []
    params = route.calls[0].request.url.params
    assert params["status"] == "pending"
    assert params["reference_id"] == "r 1"
    assert params["q"] == "ana"
    assert params["page"] == "1"
    [p async for p in client.payouts.list()]
    assert set(route.calls[-1].request.url.params) == {"limit", "page"}  # None filters omitted


async def test_list_accepts_a_bare_array(client, router):
    pages = {1: _docs("a", "b"), 2: _docs("c")}
    route = router.get(PAYOUTS).mock(
        side_effect=lambda request: jresp(200, pages[int(request.url.params["page"])])
    )
    assert [p.id async for p in client.payouts.list(limit=2)] == ["a", "b", "c"]
    assert route.call_count == 2  # a short page is the last


async def test_list_bare_array_ending_on_an_empty_page(client, router):
    pages = {1: _docs("a", "b"), 2: []}
    route = router.get(PAYOUTS).mock(
        side_effect=lambda request: jresp(200, pages[int(request.url.params["page"])])
    )
    assert [p.id async for p in client.payouts.list(limit=2)] == ["a", "b"]
    assert route.call_count == 2


@pytest.mark.parametrize("envelope", [False, True])
async def test_list_stops_on_a_server_that_ignores_page(envelope, client, router):
    body = {"count": 10, "docs": _docs("a", "b"), "pages": 5} if envelope else _docs("a", "b")
    route = router.get(PAYOUTS).mock(return_value=jresp(200, body))
    assert [p.id async for p in client.payouts.list(limit=2)] == ["a", "b"]
    assert route.call_count == 2


async def test_list_refuses_bad_limit_and_bad_shapes(client, router):
    for limit in (0, 1001):
        with pytest.raises(ValidationError) as info:
            client.payouts.list(limit=limit)
        assert info.value.field == "limit"
    router.get(PAYOUTS).mock(return_value=jresp(200, {"items": []}))
    with pytest.raises(APIResponseError):
        [p async for p in client.payouts.list()]


# -- update ---------------------------------------------------------------------------------


async def test_update_with_models_and_mappings(client, router):
    route = router.put(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json(id="p1")))
    payout = await client.payouts.update(
        "p1",
        amount="10.5",
        order_id="625cb5aa8541531b52506de8",
        items=[PayoutItem(name="Collar", quantity=1, price="5", discount="0.5"),
               {"name": "Aretes", "quantity": 2, "price": "2.25"}],
        charges=[PayoutCharge(name="Tarifa", amount="0.50"), {"name": "IVA", "amount": "0.08"}],
    )
    assert payout.id == "p1"
    assert route.calls[0].request.content == (
        b'{"amount":10.50,"order_id":"625cb5aa8541531b52506de8","items":['
        b'{"name":"Collar","quantity":1,"price":5,"discount":0.5},'
        b'{"name":"Aretes","quantity":2,"price":2.25,"discount":0}],'
        b'"charges":[{"name":"Tarifa","amount":0.50},{"name":"IVA","amount":0.08}]}'
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "update"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"items": [{"name": "x", "quantity": 0, "price": 1}]}, "items"),
        ({"items": [{"name": "x"}]}, "items"),
        ({"items": ["x"]}, "items"),
        ({"charges": [{"name": "x", "amount": -1}]}, "charges"),
        ({"charges": [3]}, "charges"),
    ],
)
async def test_update_validation(kwargs, field, client, router):
    with pytest.raises(ValidationError) as info:
        await client.payouts.update("p1", **kwargs)
    assert info.value.field == field
    assert router.calls.call_count == 0


# -- confirm --------------------------------------------------------------------------------


async def test_confirm_now_sends_no_body(client, router):
    route = router.put(f"{PAYOUTS}/p1/confirm").mock(
        return_value=jresp(200, payout_json(id="p1", status="paid"))
    )
    payout = await client.payouts.confirm("p1")
    assert payout.is_paid
    assert route.calls[0].request.content == b""
    assert "Content-Type" not in route.calls[0].request.headers


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (datetime(2022, 4, 21, 18, 0, tzinfo=timezone.utc), "2022-04-21T18:00:00.000Z"),
        (datetime(2022, 4, 21, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-6))),
         "2022-04-21T18:00:00.123Z"),
    ],
)
async def test_confirm_later(when, text, client, router):
    route = router.put(f"{PAYOUTS}/p1/confirm").mock(return_value=jresp(
        200, payout_json(id="p1", status="pending", available_at=text)))
    payout = await client.payouts.confirm("p1", available_at=when)
    assert route.calls[0].request.content == f'{{"available_at":"{text}"}}'.encode()
    assert payout.is_pending


@pytest.mark.parametrize("when", [datetime(2022, 4, 21, 18, 0), "2022-04-21T18:00:00Z"])
async def test_confirm_refuses_naive_or_non_datetime(when, client, router):
    with pytest.raises(ValidationError) as info:
        await client.payouts.confirm("p1", available_at=when)
    assert info.value.field == "available_at"
    assert router.calls.call_count == 0


async def test_confirm_after_a_lost_answer_checks_the_payout(client, router):
    route = router.put(f"{PAYOUTS}/p1/confirm").mock(side_effect=[
        httpx.ReadTimeout("lost"),
        jresp(409, {"message": "payout already confirmed", "statusCode": 409}),
    ])
    get = router.get(f"{PAYOUTS}/p1").mock(
        return_value=jresp(200, payout_json(id="p1", status="paid"))
    )
    payout = await client.payouts.confirm("p1")
    assert payout.is_paid
    assert route.call_count == 2
    assert get.call_count == 1


async def test_confirm_refused_and_still_pending_is_an_error(client, router):
    router.put(f"{PAYOUTS}/p1/confirm").mock(side_effect=[
        httpx.ReadTimeout("lost"),
        jresp(409, {"message": "cannot confirm", "statusCode": 409}),
    ])
    router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json(id="p1",
                                                                         status="pending")))
    with pytest.raises(ConflictError):
        await client.payouts.confirm("p1")


async def test_confirm_refused_without_earlier_doubt_is_not_looked_up(client, router):
    router.put(f"{PAYOUTS}/p1/confirm").mock(
        return_value=jresp(409, {"message": "not pending", "statusCode": 409})
    )
    get = router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json(id="p1")))
    with pytest.raises(ConflictError):
        await client.payouts.confirm("p1")
    assert get.call_count == 0
