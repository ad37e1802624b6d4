"""End to end over loopback: an order with a split, paid in the sandbox, the seller's
payout visible through the API, and the signed webhooks received and verified."""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType

import httpx
import pytest

from ecartpay_async.errors import BadRequestError, ValidationError
from ecartpay_async.models.orders import Order, OrderItem, OrderPayout, OrderStatus
from ecartpay_async.models.payouts import Payout
from ecartpay_async.sandbox import Sandbox
from ecartpay_async.splits import order_payout_amount_from_total

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end]

MERCHANT = "merchant@marketplace.example"
SELLER = "seller@sellers.example"
CUSTOMER = "65c41df54ec03a5080230789"


async def test_order_split_end_to_end(marketplace: ModuleType) -> None:
    async with Sandbox(email=MERCHANT, webhook_retry_scale=0.01) as sb:
        receiver = marketplace.Settlements(sb.webhook_secret)
        with marketplace.serving(receiver.receiver) as url:
            async with sb.client(account_email=MERCHANT) as client:
                await client.webhooks.register(url, marketplace.EVENTS)
                split = OrderPayout(SELLER, 1, percent=True)
                order = await client.orders.create(
                    customer_id=CUSTOMER,
                    currency="MXN",
                    items=[{"code": "123", "name": "Brazalete", "quantity": 1, "price": 1000}],
                    payout=split,
                )
                assert order.status is OrderStatus.CREATED
                assert order.payout is not None
                assert order.payout.id
                assert order.payout.email == SELLER
                assert order.pay_link

                with pytest.raises(ValidationError):  # refused before sending
                    await client.orders.create(
                        customer_id=CUSTOMER,
                        currency="MXN",
                        items=[OrderItem("x", 1, 1)],
                        payout=OrderPayout(MERCHANT.upper(), 1),
                    )

                await sb.pay_order(order.id)
                paid = await client.orders.retrieve(order.id)
                assert paid.is_paid
                assert paid.fee == Decimal("37.82")
                assert paid.total is not None
                expected = order_payout_amount_from_total(
                    paid.total, paid.fee, split, currency="MXN"
                )
                assert expected == Decimal("9.62")

                # The seller's payout, through the payouts endpoints.
                found = [p async for p in client.payouts.list() if p.order_id == order.id]
                assert len(found) == 1
                assert found[0].email is None  # the documented shape: no email
                [made] = [p for p in sb.state.payouts() if p.id == found[0].id]
                assert made.email == SELLER
                assert found[0].amount == expected
                assert found[0].is_paid

                # The signed webhooks, received over HTTP and verified.
                await marketplace.wait_for(receiver, [order], 10.0)
                confirmation = receiver.events("orders.confirmation")[0]
                assert isinstance(confirmation.data, Order)
                assert confirmation.data.id == order.id
                assert confirmation.data.fee == Decimal("37.82")
                transfer = receiver.events("transfer.created")[0]
                assert isinstance(transfer.data, Payout)
                assert transfer.data.amount == expected
                assert transfer.data.id == found[0].id

                refunded = await client.orders.refund(order.id, amount="100.00")
                assert refunded.status is OrderStatus.PARTIALLY_REFUNDED
                with pytest.raises(BadRequestError):
                    await client.orders.refund(order.id, amount="5000.00")
                with pytest.raises(ValidationError):  # "all of it" is ambiguous now
                    await client.orders.refund(order.id)
                rest = await client.orders.refund(order.id, amount="900.00", reason="duplicate")
                assert rest.status is OrderStatus.REFUNDED


async def test_receiver_rejects_forged_deliveries(marketplace: ModuleType) -> None:
    worker = marketplace.Settlements("whsec_real")
    body = b'{"event":"orders.confirmation","data":{"id":"ord_1"}}'
    headers = {
        "x-pay-timestamp": "1700000000000",
        "x-pay-webhook-id": "wh_1",
        "x-pay-signature": "SHA256=" + "0" * 64,
    }
    transport = httpx.ASGITransport(app=worker.receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as http:
        answer = await http.post("/", content=body, headers=headers)
    assert answer.status_code == 401
    assert "signature" in answer.json()["error"]
    assert worker.events("orders.confirmation") == []
