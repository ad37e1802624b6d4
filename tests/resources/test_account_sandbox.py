"""The read-only money endpoints against the sandbox: what payouts, orders, refunds and
withdrawals did to the account shows in its transactions, summary and withdrawals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from ecartpay_async import AsyncClient, OrderItem
from ecartpay_async.errors import NotFoundError
from ecartpay_async.sandbox import Sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end, pytest.mark.clock]

MERCHANT = "merchant@shop.example"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(email=MERCHANT, balances={"MXN": "10000.00", "CLP": 0}) as sb:
        yield sb


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[AsyncClient]:
    async with sandbox.client() as c:
        yield c


async def withdraw(sandbox: Sandbox, amount: str, currency: str = "MXN") -> None:
    async with sandbox.http_client() as http:
        response = await http.post("/_sandbox/withdrawals",
                                   content=f'{{"amount": {amount}, "currency": "{currency}"}}')
    assert response.status_code == 201, response.text


async def history(sandbox: Sandbox, client: AsyncClient) -> None:
    """An order paid then partly refunded, three payouts, and a withdrawal."""
    order = await client.orders.create(customer_id="cus_1", currency="MXN",
                                       items=[OrderItem("Taza", 1, Decimal("1000.00"))])
    await sandbox.pay_order(order.id)
    await client.orders.refund(order.id, amount=Decimal("100.00"))
    for n in range(3):
        await client.payouts.create(email=f"seller{n}@sellers.example",
                                    reference_id=f"settle-{n}", amount=Decimal("1250.50"),
                                    currency="MXN")
    await withdraw(sandbox, "500.25")


async def test_transactions_follow_the_account(sandbox, client):
    await history(sandbox, client)
    found = [t async for t in client.transactions.list()]
    # The types of Ecart Pay's OpenAPI file: a payout sent and a refund are charges.
    assert sorted(t.type or "" for t in found) == [
        "charge", "charge", "charge", "charge", "payment", "withdrawal"]
    payment = next(t for t in found if t.type == "payment")
    assert (payment.amount, payment.fee, payment.net) == (
        Decimal("1000.00"), Decimal("37.82"), Decimal("962.18"))
    assert payment.order_id is not None
    refund = next(t for t in found if t.type == "charge" and t.payout_id is None)
    assert (refund.amount, refund.order_id) == (Decimal("100.00"), payment.order_id)
    payout = next(t for t in found if t.type == "charge" and t.payout_id is not None)
    assert payout.amount == Decimal("1250.50")
    assert payout.payout_id == payout.id
    assert payout.extra["email"].endswith("@sellers.example")  # unknown fields kept

    again = await client.transactions.retrieve(payout.id)
    assert again == payout
    with pytest.raises(NotFoundError):
        await client.transactions.retrieve("000000000000000000000000")


async def test_transactions_pages_and_filters(sandbox, client):
    first_day = datetime.now(timezone.utc).date()
    await history(sandbox, client)
    last_day = datetime.now(timezone.utc).date()  # the next day if the run crossed 00:00 UTC
    paged = [t.id async for t in client.transactions.list(limit=2)]
    assert len(paged) == len(set(paged)) == 6
    charges = [t async for t in client.transactions.list(type="charge", limit=2)]
    payouts = [t for t in charges if t.payout_id is not None]
    assert len(charges) == 4  # three payouts and a refund
    assert [t.reference_id for t in payouts] == ["settle-2", "settle-1", "settle-0"]  # newest first
    assert [t.id async for t in client.transactions.list(q="settle-1")] == [payouts[1].id]
    during = client.transactions.list(start_date=first_day, end_date=last_day)
    assert len([t async for t in during]) == 6
    tomorrow = last_day + timedelta(days=1)
    assert [t async for t in client.transactions.list(start_date=tomorrow)] == []


async def test_summary_adds_up_to_the_balance(sandbox, client):
    await history(sandbox, client)
    summary = await client.transactions.summary("MXN")
    assert summary.currency == "MXN"
    assert summary.pay_ins == Decimal("1000.00")
    assert summary.fees == Decimal("37.82")
    assert summary.refunds == Decimal("100.00")
    assert summary.payouts == Decimal("3751.50")
    assert summary.withdrawals == Decimal("500.25")
    assert summary.count == 6
    start = Decimal("10000.00")
    assert summary.balance == (start + summary.pay_ins - summary.fees - summary.refunds
                               - summary.payouts - summary.withdrawals)
    assert summary.balance == sandbox.state.balance(MERCHANT, "MXN")
    empty = await client.transactions.summary("CLP")
    assert (empty.balance, empty.count) == (Decimal(0), 0)


async def test_withdrawals_list_and_filters(sandbox, client):
    for amount in ("100.00", "200.00", "300.00"):
        await withdraw(sandbox, amount)
    found = [w async for w in client.withdrawals.list(limit=2)]
    assert [w.amount for w in found] == [Decimal("300.00"), Decimal("200.00"), Decimal("100.00")]
    assert all(w.status == "paid" and w.currency == "MXN" for w in found)
    assert [w async for w in client.withdrawals.list(currency="USD")] == []
    assert [w.amount async for w in client.withdrawals.list(q=found[1].reference)] == [
        Decimal("200.00")]
    today = datetime.now(timezone.utc).date()
    assert len([w async for w in client.withdrawals.list(start_date=today - timedelta(days=2),
                                                        end_date=today + timedelta(days=2))]) == 3


async def test_the_sandbox_refuses_bad_queries(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        answer = await http.post("/api/authorizations/token",
                                 auth=(sandbox.public_key, sandbox.private_key))
        auth = {"Authorization": answer.json()["token"]}
        summary = await http.get("/api/transactions/summary", headers=auth)
        assert summary.status_code == 400
        assert "currency" in summary.json()["message"]
        dates = await http.get("/api/withdrawals", params={"date_[start]": "18/12/2023"},
                               headers=auth)
        assert dates.status_code == 400
        unauthorized = await http.get("/api/transactions")
        assert unauthorized.status_code == 401


async def test_an_overdrawn_withdrawal_is_refused(sandbox, client):
    async with sandbox.http_client() as http:
        response = await http.post("/_sandbox/withdrawals",
                                   content='{"amount": 1, "currency": "CLP"}')
    assert response.status_code == 400
    assert "insufficient balance" in response.json()["message"]
    assert [w async for w in client.withdrawals.list()] == []


async def test_lists_walk_a_bare_array_too():
    async with Sandbox(list_shape="array") as sb, sb.client() as client:
        for amount in ("1.00", "2.00", "3.00"):
            await withdraw(sb, amount)
        assert len([w async for w in client.withdrawals.list(limit=2)]) == 3
        assert len([t async for t in client.transactions.list(limit=2)]) == 3
