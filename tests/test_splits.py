"""The split calculator: the documented table, rounding, and properties."""

from __future__ import annotations

import doctest
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecartpay_async import splits
from ecartpay_async.errors import ValidationError
from ecartpay_async.models.orders import OrderPayout
from ecartpay_async.splits import (
    Split,
    order_balance,
    order_payout_amount,
    order_payout_amount_from_total,
    split_order,
)

SELLER = "seller@example.com"


@pytest.mark.parametrize(
    ("payout", "expected"),
    [
        (OrderPayout(SELLER, 1000), Decimal("962.18")),
        (OrderPayout(SELLER, 1, percent=True), Decimal("9.62")),
        (OrderPayout(SELLER, 100, percent=True), Decimal("962.18")),
    ],
)
def test_documented_table(payout: OrderPayout, expected: Decimal) -> None:
    # send-money-from-orders.md: total 1,000.00 MXN, fee 37.82, balance 962.18.
    assert order_balance(Decimal("1000.00"), Decimal("37.82"), currency="MXN") == Decimal("962.18")
    amount = order_payout_amount_from_total(
        Decimal("1000.00"), Decimal("37.82"), payout, currency="MXN"
    )
    assert amount == expected
    assert str(amount) == str(expected)
    assert order_payout_amount(Decimal("962.18"), payout, currency="MXN") == expected


def test_split_parts() -> None:
    split = split_order("1000.00", "37.82", OrderPayout(SELLER, 1, percent=True), currency="mxn")
    assert split == Split(
        currency="MXN",
        total=Decimal("1000.00"),
        fee=Decimal("37.82"),
        balance=Decimal("962.18"),
        seller=Decimal("9.62"),
        merchant=Decimal("952.56"),
    )


def test_fixed_below_balance_is_paid_in_full() -> None:
    assert order_payout_amount(
        Decimal("962.18"), OrderPayout(SELLER, "250.50"), currency="MXN"
    ) == (Decimal("250.50"))


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    half = OrderPayout(SELLER, 50, percent=True)
    assert order_payout_amount(Decimal("0.01"), half, currency="MXN") == Decimal("0.01")  # 0.005
    assert order_payout_amount(Decimal("0.03"), half, currency="MXN") == Decimal("0.02")  # 0.015
    assert order_payout_amount(Decimal(5), half, currency="CLP") == Decimal(3)  # 2.5, no decimals


def test_fee_above_total_leaves_nothing() -> None:
    split = split_order(5, 7, OrderPayout(SELLER, 100, percent=True), currency="MXN")
    assert split.balance == 0
    assert split.seller == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: order_payout_amount(-1, OrderPayout(SELLER, 1), currency="MXN"), "balance"),
        (lambda: order_payout_amount("1.005", OrderPayout(SELLER, 1), currency="MXN"), "balance"),
        (
            lambda: order_payout_amount(10, OrderPayout(SELLER, "1.5"), currency="CLP"),
            "payout.amount",
        ),
        (lambda: order_payout_amount(10, OrderPayout(SELLER, 1), currency="XXX"), "currency"),
        (lambda: order_payout_amount(10, {"email": SELLER}, currency="MXN"), "payout"),  # type: ignore[arg-type]
        (lambda: split_order(10, "0.001", OrderPayout(SELLER, 1), currency="MXN"), "fee"),
    ],
)
def test_refuses_bad_input(call: object, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field


def test_module_example() -> None:
    assert doctest.testmod(splits).failed == 0


# -- properties ------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["MXN", "CLP", "USD"])
cents = st.integers(min_value=0, max_value=10**12)
percents = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(100), places=4, allow_nan=False
)
fixed = st.integers(min_value=1, max_value=10**13)


def _money(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-2 if currency != "CLP" else 0)


def _payout(value: Decimal | int, currency: str, percent: bool) -> OrderPayout:
    amount = value if percent else _money(int(value), currency)
    return OrderPayout(SELLER, amount, percent=percent)


@given(currency=CURRENCIES, balance=cents, percent=percents)
def test_percent_within_balance(currency: str, balance: int, percent: Decimal) -> None:
    available = _money(balance, currency)
    amount = order_payout_amount(
        available, OrderPayout(SELLER, percent, percent=True), currency=currency
    )
    assert 0 <= amount <= available
    assert amount == amount.quantize(Decimal(1).scaleb(-2 if currency != "CLP" else 0))


@given(currency=CURRENCIES, balance=cents, amount=fixed)
def test_fixed_within_balance(currency: str, balance: int, amount: int) -> None:
    available = _money(balance, currency)
    paid = order_payout_amount(available, _payout(amount, currency, False), currency=currency)
    assert 0 <= paid <= available
    assert paid == min(_money(amount, currency), available)


def _assert_monotone(currency: str, balance: int, pair: tuple[Any, Any], percent: bool) -> None:
    low, high = sorted(pair)
    available = _money(balance, currency)
    smaller = order_payout_amount(available, _payout(low, currency, percent), currency=currency)
    larger = order_payout_amount(available, _payout(high, currency, percent), currency=currency)
    assert smaller <= larger


@given(currency=CURRENCIES, balance=cents, pair=st.tuples(percents, percents))
def test_monotone_in_percent(currency: str, balance: int, pair: tuple[Decimal, Decimal]) -> None:
    _assert_monotone(currency, balance, pair, percent=True)


@given(currency=CURRENCIES, balance=cents, pair=st.tuples(fixed, fixed))
def test_monotone_in_fixed_amount(currency: str, balance: int, pair: tuple[int, int]) -> None:
    _assert_monotone(currency, balance, pair, percent=False)


@given(currency=CURRENCIES, balance=cents)
def test_full_percent_is_the_balance(currency: str, balance: int) -> None:
    available = _money(balance, currency)
    payout = OrderPayout(SELLER, 100, percent=True)
    assert order_payout_amount(available, payout, currency=currency) == available


@given(currency=CURRENCIES, total=cents, fee=cents, percent=percents)
def test_split_adds_up(currency: str, total: int, fee: int, percent: Decimal) -> None:
    split = split_order(
        _money(total, currency),
        _money(fee, currency),
        OrderPayout(SELLER, percent, percent=True),
        currency=currency,
    )
    assert split.seller + split.merchant == split.balance
    assert split.merchant >= 0
    if fee <= total:
        assert split.fee + split.balance == split.total
