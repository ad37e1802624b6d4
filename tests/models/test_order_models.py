"""Order models: validation of what users send, tolerance of what the API answers."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from ecartpay_async import _json
from ecartpay_async._convert import ShapeError, structure, unstructure
from ecartpay_async.errors import ValidationError
from ecartpay_async.models.orders import (
    Order,
    OrderItem,
    OrderLine,
    OrderPayout,
    OrderPayoutEcho,
    OrderStatus,
    OrderTotals,
)

# The scraped product page shows Cloudflare's e-mail obfuscation instead of addresses.
OBFUSCATED = "[email protected]"


# -- OrderItem -------------------------------------------------------------------------


def test_item_reads_amounts_exactly() -> None:
    item = OrderItem("Brazalete", 2, "243.33", code="123")
    assert item == OrderItem(
        name="Brazalete", quantity=Decimal(2), price=Decimal("243.33"), code="123"
    )
    assert item.to_body() == {
        "code": "123",
        "name": "Brazalete",
        "quantity": Decimal(2),
        "price": Decimal("243.33"),
    }
    assert OrderItem("x", 1, 0.1).price == Decimal("0.10")  # float via str(), never binary


def test_item_free_line_allowed() -> None:
    assert OrderItem("gift", 1, 0).price == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "", "quantity": 1, "price": 1}, "name"),
        ({"name": "x", "quantity": 0, "price": 1}, "quantity"),
        ({"name": "x", "quantity": -1, "price": 1}, "quantity"),
        ({"name": "x", "quantity": "abc", "price": 1}, "quantity"),
        ({"name": "x", "quantity": True, "price": 1}, "quantity"),
        ({"name": "x", "quantity": 1, "price": -1}, "price"),
        ({"name": "x", "quantity": 1, "price": "1.005"}, "price"),
        ({"name": "x", "quantity": 1, "price": "NaN"}, "price"),
        ({"name": "x", "quantity": 1, "price": 1, "code": ""}, "code"),
    ],
)
def test_item_refuses_bad_input(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        OrderItem(**kwargs)
    assert info.value.field == field


def test_item_from_mapping() -> None:
    assert OrderItem.from_mapping({"name": "x", "quantity": 1, "price": 5}) == OrderItem("x", 1, 5)
    with pytest.raises(ValidationError, match="discount"):
        OrderItem.from_mapping({"name": "x", "quantity": 1, "price": 5, "discount": 1})
    with pytest.raises(ValidationError) as info:
        OrderItem.from_mapping({"name": "x", "quantity": 1})
    assert info.value.field == "price"


# -- OrderPayout -----------------------------------------------------------------------


def test_payout_defaults_to_fixed() -> None:
    payout = OrderPayout("seller@example.com", 1000)
    assert payout.percent is False
    assert payout.amount == Decimal("1000")
    assert payout.to_body() == {
        "email": "seller@example.com",
        "amount": Decimal("1000"),
        "percent": False,
    }


def test_payout_percent_keeps_precision() -> None:
    assert OrderPayout("s@example.com", "33.3333", percent=True).amount == Decimal("33.3333")
    assert OrderPayout("s@example.com", 100, percent=True).amount == 100


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "", "amount": 1}, "email"),
        ({"email": None, "amount": 1}, "email"),
        ({"email": "seller.example.com", "amount": 1}, "email"),
        ({"email": "s@example.com", "amount": 0}, "amount"),
        ({"email": "s@example.com", "amount": -5}, "amount"),
        ({"email": "s@example.com", "amount": "ten"}, "amount"),
        ({"email": "s@example.com", "amount": "0.001"}, "amount"),
        ({"email": "s@example.com", "amount": 0, "percent": True}, "amount"),
        ({"email": "s@example.com", "amount": "100.01", "percent": True}, "amount"),
        ({"email": "s@example.com", "amount": 10, "percent": "yes"}, "percent"),
    ],
)
def test_payout_refuses_bad_input(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        OrderPayout(**kwargs)
    assert info.value.field == field


def test_payout_minor_unit_checked_against_currency() -> None:
    OrderPayout("s@example.com", "10.50").check_currency("MXN")
    with pytest.raises(ValidationError):
        OrderPayout("s@example.com", "10.50").check_currency("CLP")
    OrderPayout("s@example.com", "12.5", percent=True).check_currency("CLP")  # a share, not money


def test_payout_from_mapping() -> None:
    data = {"email": "s@example.com", "amount": 1, "percent": True}
    assert OrderPayout.from_mapping(data) == OrderPayout("s@example.com", 1, percent=True)
    with pytest.raises(ValidationError) as info:
        OrderPayout.from_mapping({"email": "s@example.com"})
    assert info.value.field == "amount"
    with pytest.raises(ValidationError) as info:
        OrderPayout.from_mapping({"email": "s@example.com", "amount": 1, "_id": "x"})
    assert info.value.field == "_id"


# -- Order (answers) -------------------------------------------------------------------


def test_documented_order_answers_parse(order_examples: dict[str, Any]) -> None:
    for name in (
        "openapi_create_order_response",
        "openapi_create_order_description_response",
        "doc_response",
    ):
        data = order_examples[name]
        order = structure(data, Order)
        assert order.id == data["id"]
        assert order.currency == "MXN"
        assert order.totals is not None
        assert order.totals.total == data["totals"]["total"]


def test_openapi_answer_fields(order_examples: dict[str, Any]) -> None:
    raw = order_examples["openapi_create_order_response"]
    order = structure(raw, Order)
    assert order.status is OrderStatus.CREATED
    assert order.number == "OR01667152"
    assert order.fee == 0
    assert order.pay_link == "https://sandbox.ecartpay.com/pay/6255c337c589a8c8e20f865e"
    assert order.items == (
        OrderLine(
            name="Brazalete religioso plateado BR3017",
            quantity=Decimal(1),
            price=Decimal("243.33"),
            discount=Decimal(0),
            tax=Decimal(0),
            total=Decimal("243.33"),
        ),
    )
    assert order.totals == OrderTotals(
        subtotal=Decimal("243.33"),
        total=Decimal("243.33"),
        tax=Decimal(0),
        discount=Decimal(0),
        shipping=Decimal(0),
    )
    assert order.created_at == datetime(2022, 4, 12, 18, 21, 43, 721000, tzinfo=timezone.utc)
    assert order.redirect_url == "https://example.com/order/10"
    assert order.extra["risk_score"] == 0  # unknown fields kept
    assert order.risk_notes == []


def test_doc_answer_echoes_payout(order_examples: dict[str, Any]) -> None:
    order = structure(order_examples["doc_response"], Order)
    assert order.is_paid
    assert order.total == 1000
    assert order.payout == OrderPayoutEcho(
        email=OBFUSCATED, amount=Decimal(100), percent=True, id="6a0b3c58d7426e69cf4dc006"
    )
    assert unstructure(order.payout)["_id"] == "6a0b3c58d7426e69cf4dc006"


def test_documented_requests_parse(order_examples: dict[str, Any]) -> None:
    for name in ("doc_request_fixed", "doc_request_percent", "doc_request_full"):
        body = order_examples[name]
        items = [OrderItem.from_mapping(item) for item in body["items"]]
        assert items[0].price == 1000
        payout = OrderPayout.from_mapping({**body["payout"], "email": "seller@example.com"})
        assert payout.amount == body["payout"]["amount"]
    request = order_examples["openapi_create_order_request"]
    assert OrderItem.from_mapping(request["items"][0]).price == Decimal("243.33")


def test_unknown_status_is_kept_as_text() -> None:
    order = structure({"id": "o1", "status": "chargeback"}, Order)
    assert order.status == "chargeback"
    assert not order.is_paid
    assert structure({"id": "o1", "status": "partially_refunded"}, Order).status is (
        OrderStatus.PARTIALLY_REFUNDED
    )
    assert str(OrderStatus.PAID) == "paid"


def test_minimal_and_null_fields() -> None:
    order = structure({"id": "o1", "fee": None, "payout": None}, Order)
    assert order.fee is None
    assert order.payout is None
    assert order.total is None
    with pytest.raises(ShapeError):
        structure({"number": "OR1"}, Order)
    with pytest.raises(ShapeError):
        structure(["not", "an", "object"], Order)


def test_amounts_never_float() -> None:
    order = structure(_json.loads(b'{"id":"o","fee":37.82,"totals":{"total":1000.10}}'), Order)
    assert order.fee == Decimal("37.82")
    assert isinstance(order.fee, Decimal)
    assert order.totals is not None
    assert str(order.totals.total) == "1000.10"
