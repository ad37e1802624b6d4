"""``client.transactions`` and ``client.withdrawals`` against respx: queries, pages,
exact money, unknown fields kept, bad input refused before sending."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ecartpay_async import (
    AccountTransaction,
    AsyncClient,
    TransactionSummary,
    Withdrawal,
    _json,
)
from ecartpay_async.errors import APIResponseError, NotFoundError, ValidationError

pytestmark = pytest.mark.anyio

BASE = "https://api.ecartpay.test"


def answer(body: Any) -> httpx.Response:
    return httpx.Response(200, content=_json.dumps(body),
                          headers={"content-type": "application/json"})


def transaction(id: str, **fields: Any) -> dict[str, Any]:
    return {"id": id, "type": "payment", "status": "paid", "amount": Decimal("1000.00"),
            "fee": Decimal("37.82"), "currency": "MXN",
            "created_at": "2026-11-20T12:00:00.000Z", **fields}



async def test_transactions_list_walks_pages_with_the_filters(mocked):
    router, client = mocked
    pages = {1: [transaction("t1"), transaction("t2")], 2: [transaction("t3")]}

    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        return answer({"count": 3, "docs": pages[number], "pages": 2})

    route = router.get("/api/transactions").mock(side_effect=page)
    found = [t async for t in client.transactions.list(
        type="payment", status="paid", q="OR000", start_date=date(2026, 11, 1),
        end_date=datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc), limit=2,
    )]
    assert [t.id for t in found] == ["t1", "t2", "t3"]
    assert all(isinstance(t, AccountTransaction) for t in found)
    assert found[0].amount == Decimal("1000.00")
    assert found[0].fee == Decimal("37.82")
    assert found[0].created_at == datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    params = dict(route.calls[0].request.url.params)
    assert params == {"type": "payment", "status": "paid", "q": "OR000",
                      "start_date": "2026-11-01", "end_date": "2026-11-30",
                      "limit": "2", "page": "1"}
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2"]


async def test_transactions_list_takes_a_bare_array_and_omits_unset_filters(mocked):
    router, client = mocked
    route = router.get("/api/transactions").mock(return_value=answer([transaction("t1")]))
    assert [t.id async for t in client.transactions.list()] == ["t1"]
    assert set(route.calls[0].request.url.params) == {"limit", "page"}


async def test_unknown_fields_are_kept(mocked):
    router, client = mocked
    router.get("/api/transactions/t%201").mock(return_value=answer(
        transaction("t 1", gateway="pay", risk={"score": 3}, net=Decimal("962.18"))
    ))
    found = await client.transactions.retrieve("t 1")
    assert found.net == Decimal("962.18")
    assert found.extra == {"gateway": "pay", "risk": {"score": 3}}
    assert found.gateway == "pay"


async def test_retrieve_errors(mocked):
    router, client = mocked
    router.get("/api/transactions/nope").respond(404, json={"message": "Transaction not found",
                                                            "statusCode": 404})
    with pytest.raises(NotFoundError):
        await client.transactions.retrieve("nope")
    with pytest.raises(ValidationError) as info:
        await client.transactions.retrieve(" ")
    assert info.value.field == "transaction_id"
    router.get("/api/transactions/bad").mock(return_value=answer({"amount": 1}))
    with pytest.raises(APIResponseError):  # no id: not a transaction
        await client.transactions.retrieve("bad")


async def test_summary_asks_for_one_currency(mocked):
    router, client = mocked
    route = router.get("/api/transactions/summary").mock(return_value=answer({
        "currency": "MXN", "balance": Decimal("15230.50"), "pay_ins": Decimal("20000.00"),
        "payouts": Decimal("4769.50"), "count": 12, "pending": Decimal("10.00"),
    }))
    summary = await client.transactions.summary("mxn")
    assert route.calls[0].request.url.params["currency"] == "MXN"
    assert summary == TransactionSummary(
        currency="MXN", balance=Decimal("15230.50"), pay_ins=Decimal("20000.00"),
        payouts=Decimal("4769.50"), count=12, extra={"pending": Decimal("10.00")},
    )


async def test_summary_of_an_answer_that_leaves_the_currency_implied(mocked):
    router, client = mocked
    router.get("/api/transactions/summary").mock(
        return_value=answer({"total_pay_ins": Decimal("5"), "total_payouts": 0})
    )
    summary = await client.transactions.summary("CLP")
    assert summary.currency == "CLP"
    assert summary.balance is None
    assert summary.extra == {"total_pay_ins": Decimal("5"), "total_payouts": 0}


async def test_bad_filters_are_refused_before_sending(mocked):
    router, client = mocked
    route = router.get("/api/transactions").mock(return_value=answer([]))
    with pytest.raises(ValidationError) as info:
        client.transactions.list(limit=0)
    assert info.value.field == "limit"
    with pytest.raises(ValidationError) as info:
        client.transactions.list(start_date="2026-11-01")  # type: ignore[arg-type]
    assert info.value.field == "start_date"
    with pytest.raises(ValidationError) as info:
        await client.transactions.summary("pesos")
    assert info.value.field == "currency"
    with pytest.raises(ValidationError) as info:
        client.withdrawals.list(currency="XXX1")
    assert info.value.field == "currency"
    assert not route.called


async def test_withdrawals_list(mocked):
    router, client = mocked
    docs = [{"id": f"wd{i}", "status": "paid", "amount": Decimal("250.00"), "currency": "MXN",
             "reference": f"TR0000091{i}A", "bank": {"clabe": "0021..."}} for i in range(3)]

    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        return answer(docs[(number - 1) * 2 : number * 2])

    route = router.get("/api/withdrawals").mock(side_effect=page)
    found = [w async for w in client.withdrawals.list(
        currency="mxn", status="paid", q="TR", start_date=date(2023, 12, 18),
        end_date=date(2023, 12, 25), limit=2,
    )]
    assert [w.id for w in found] == ["wd0", "wd1", "wd2"]
    assert isinstance(found[0], Withdrawal)
    assert found[0].amount == Decimal("250.00")
    assert found[0].extra == {"bank": {"clabe": "0021..."}}
    params = dict(route.calls[0].request.url.params)
    assert params == {"currency": "MXN", "status": "paid", "q": "TR",
                      "date_[start]": "2023-12-18", "date_[end]": "2023-12-25",
                      "limit": "2", "page": "1"}
    assert route.call_count == 2  # a short page is the last


def test_the_resources_are_made_on_first_use():
    client = AsyncClient("pk", "sk", base_url=BASE)
    assert "transactions" not in vars(client)
    assert client.transactions is client.transactions
    assert client.withdrawals is client.withdrawals
    assert client.webhooks is client.webhooks
