"""Orders with payout splits, paid in the sandbox; signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ecartpay_async import _json
from ecartpay_async.sandbox import Sandbox

from .conftest import Receiver

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end]

SELLER = "seller@example.com"


def order_body(payout: dict[str, Any] | None = None, **changes: Any) -> bytes:
    body: dict[str, Any] = {
        "customer_id": "65c41df54ec03a5080230789",
        "currency": "MXN",
        "items": [
            {
                "code": "123",
                "name": "Brazalete religioso plateado BR3017 ñ",
                "quantity": 1,
                "price": 1000,
            }
        ],
        "notify_url": "",
        "redirect_url": "https://example.com/done",
    }
    if payout is not None:
        body["payout"] = payout
    body.update(changes)
    return _json.dumps(body)


async def create_order(
    http: httpx.AsyncClient, auth: dict[str, str], payout: Any = None, **changes: Any
) -> httpx.Response:
    return await http.post("/api/orders", content=order_body(payout, **changes), headers=auth)


async def test_order_answer_shape(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await create_order(http, auth, {"email": SELLER, "amount": 100, "percent": True})
    assert response.status_code == 200, response.text
    order = _json.loads(response.content)
    assert order["status"] == "created"
    assert order["number"].startswith("OR")
    assert order["totals"]["total"] == Decimal("1000.00")
    assert order["fee"] == 0
    assert order["pay_link"].endswith(f"/pay/{order['id']}")
    payout = order["payout"]
    assert (payout["email"], payout["amount"], payout["percent"]) == (SELLER, 100, True)
    assert len(payout["_id"]) == 24
    fetched = await http.get(f"/api/orders/{order['id']}", headers=auth)
    assert fetched.json() == response.json()
    assert (await http.get("/api/orders/nope", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("payout", "changes", "words"),
    [
        ({"amount": 10}, {}, "payout.email is required"),
        ({"email": "merchant@sandbox.ecartpay.test", "amount": 10}, {}, "different from"),
        ({"email": SELLER}, {}, "payout.amount is required"),
        ({"email": SELLER, "amount": 0}, {}, "payout.amount"),
        ({"email": SELLER, "amount": 101, "percent": True}, {}, "at most 100"),
        ({"email": SELLER, "amount": Decimal("1.001")}, {}, "payout.amount"),
        ({"email": SELLER, "amount": 1, "percent": "yes"}, {}, "payout.percent"),
        (None, {"items": []}, "items"),
        (
            None,
            {"items": [{"name": "x", "quantity": 1, "price": Decimal("0.001")}]},
            "items[0].price",
        ),
        (None, {"customer_id": None}, "customer_id"),
    ],
)
async def test_order_validation(
    http: httpx.AsyncClient, auth: dict[str, str], payout: Any, changes: dict[str, Any], words: str
) -> None:
    response = await create_order(http, auth, payout, **changes)
    assert response.status_code == 400
    assert words in response.json()["message"]


@pytest.mark.parametrize(
    ("payout", "sent"),
    [
        ({"email": SELLER, "amount": 1000}, Decimal("962.18")),  # fixed, capped
        ({"email": SELLER, "amount": 500, "percent": False}, Decimal("500.00")),
        ({"email": SELLER, "amount": 1, "percent": True}, Decimal("9.62")),
        ({"email": SELLER, "amount": 100, "percent": True}, Decimal("962.18")),
        (None, None),
    ],
)
async def test_paying_an_order_follows_the_document(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str], payout: Any, sent: Decimal | None
) -> None:
    merchant = sb.state.merchant.email
    start = sb.state.balance(merchant, "MXN")
    order = (await create_order(http, auth, payout)).json()
    paid = await sb.pay_order(order["id"])
    assert paid["status"] == "paid"
    assert paid["fee"] == Decimal("37.82")
    listed = (
        await http.get(
            "/api/payouts", params={"reference_id": f"order:{order['id']}"}, headers=auth
        )
    ).content
    docs = _json.loads(listed)["docs"]
    if sent is None:
        assert docs == []
        assert sb.state.balance(merchant, "MXN") == start + Decimal("962.18")
        return
    assert [(d["amount"], d["status"], d["order_id"]) for d in docs] == [
        (sent, "paid", order["id"])
    ]
    assert "email" not in docs[0]  # the documented payout shape carries none
    assert [p.email for p in sb.state.payouts() if p.id == docs[0]["id"]] == [SELLER]
    assert sb.state.balance(SELLER, "MXN") == sent
    assert sb.state.balance(merchant, "MXN") == start + Decimal("962.18") - sent
    again = await http.post(f"/_sandbox/orders/{order['id']}/pay")
    assert again.status_code == 400


async def test_refunds(sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    order = (await create_order(http, auth)).json()
    path = f"/api/orders/{order['id']}/refund"
    early = await http.post(path, json={"amount": 1, "name": "requested"}, headers=auth)
    assert early.status_code == 400
    await sb.pay_order(order["id"])
    bad_reason = await http.post(path, json={"amount": 1, "name": "bored"}, headers=auth)
    assert "name" in bad_reason.json()["message"]
    part = await http.post(path, json={"amount": 400, "name": "requested"}, headers=auth)
    assert part.json()["status"] == "partially_refunded"
    too_much = await http.post(path, json={"amount": 600.01, "name": "duplicate"}, headers=auth)
    assert too_much.status_code == 400
    rest = await http.post(path, json={"amount": 600, "name": "fraudulent"}, headers=auth)
    assert rest.json()["status"] == "refunded"
    assert [r["name"] for r in rest.json()["refunds"]] == ["requested", "fraudulent"]
    assert (await http.post("/_sandbox/orders/unknown/pay")).status_code == 404


async def register(
    http: httpx.AsyncClient, auth: dict[str, str], url: str, events: list[str]
) -> None:
    response = await http.post("/api/webhooks", json={"url": url, "events": events}, headers=auth)
    assert response.status_code == 200, response.text


def verify_independently(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Checks a delivery with nothing but hmac and the raw bytes received."""
    envelope = json.loads(body)
    prefix = b'{"event":' + json.dumps(envelope["event"]).encode() + b',"data":'
    assert body.startswith(prefix)
    assert body.endswith(b"}")
    data_text = body[len(prefix) : -1]  # the data exactly as serialized and signed
    signed = f"{headers['x-pay-timestamp']}.{headers['x-pay-webhook-id']}.".encode() + data_text
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-pay-signature"] == f"SHA256={expected}"
    return envelope  # type: ignore[no-any-return]


async def test_webhooks_are_signed_and_delivered(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str], receiver: Receiver
) -> None:
    await register(http, auth, receiver.url, ["orders.*", "transfer.created"])
    order = (await create_order(http, auth, {"email": SELLER, "amount": 1, "percent": True})).json()
    await sb.pay_order(order["id"])
    done = await sb.wait_for_deliveries(3)
    assert sorted(d.event for d in done) == [
        "orders.confirmation",
        "orders.create",
        "transfer.created",
    ]
    assert all(d.status == "delivered" and d.attempts == [{"status": 200}] for d in done)
    events = {}
    for headers, body in receiver.received:
        envelope = verify_independently(sb.webhook_secret, headers, body)
        events[envelope["event"]] = body
        assert headers["x-pay-timestamp"].isdigit()
        assert sb.webhook_secret.encode() not in body
    confirmation = events["orders.confirmation"]
    # JavaScript's JSON.stringify: 1000.00 is written 1000, text is not escaped.
    assert b'"total":1000,' in confirmation
    assert b'"fee":37.82' in confirmation
    assert "ñ".encode() in confirmation
    assert b'"amount":9.62' in events["transfer.created"]
    assert b'"status":"paid"' in events["transfer.created"]


async def test_webhook_retries_then_success(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str], receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 200]
    await register(http, auth, receiver.url, ["orders.create"])
    await create_order(http, auth)
    (delivery,) = await sb.wait_for_deliveries(1)
    assert delivery.status == "delivered"
    assert delivery.attempts == [{"status": 500}, {"status": 503}, {"status": 200}]
    ids = {headers["x-pay-webhook-id"] for headers, _ in receiver.received}
    assert ids == {delivery.id}  # one id across retries, for the receiver to deduplicate


async def test_webhook_4xx_is_not_retried_and_5_attempts_at_most(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str], receiver: Receiver
) -> None:
    receiver.statuses = [404] + [500] * 5
    await register(http, auth, receiver.url, ["orders.create"])
    await create_order(http, auth)
    await create_order(http, auth)
    first, second = await sb.wait_for_deliveries(2)
    assert first.status == second.status == "failed"
    attempts = sorted([first.attempts, second.attempts], key=len)
    assert attempts == [[{"status": 404}], [{"status": 500}] * 5]


async def test_unreachable_receiver(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await register(http, auth, "http://127.0.0.1:9/hook", ["orders.create"])
    await create_order(http, auth)
    (delivery,) = await sb.wait_for_deliveries(1)
    assert delivery.status == "failed"
    assert delivery.attempts == [{"error": "ConnectError"}] * 5


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"url": "ftp://x", "events": ["orders.create"]}, "url"),
        ({"url": "http://x"}, "events"),
        ({"url": "http://x", "events": [""]}, "events"),
    ],
)
async def test_webhook_registration_validation(
    http: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], words: str
) -> None:
    response = await http.post("/api/webhooks", json=body, headers=auth)
    assert response.status_code == 400
    assert words in response.json()["message"]
