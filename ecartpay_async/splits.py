"""What a seller receives from an order's payout: the arithmetic of split settlement.

When an order is paid, Ecart Pay takes its fee from the order total; what is left
(the post-fee *balance*) is the most the order's payout can send. A fixed payout is
``min(amount, balance)``; a percentage payout is ``balance * amount / 100``.

Rounding: a percentage share is computed exactly, then rounded to the currency's
minor unit with ``ROUND_HALF_UP`` (half a cent goes up, the usual rule for money),
then capped at the balance.
That reproduces the documented table (1 % of 962.18 = 9.6218 -> 9.62) and can
never exceed the balance: for a percentage at most 100 the exact share is at most
the balance, which already fits the minor unit, so rounding half up cannot pass it,
and the cap makes it certain. The result is never negative and never decreases
when the payout's amount grows.

The table from ``send-money-from-orders.md`` (total 1,000.00 MXN, fee 37.82)::

    >>> from decimal import Decimal
    >>> from ecartpay_async.models.orders import OrderPayout
    >>> split = split_order(Decimal("1000.00"), Decimal("37.82"),
    ...                     OrderPayout("seller@example.com", 1, percent=True), currency="MXN")
    >>> split.balance, split.seller, split.merchant
    (Decimal('962.18'), Decimal('9.62'), Decimal('952.56'))
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Final

import attrs

from ._reprs import safe_repr
from .errors import ValidationError
from .models.orders import OrderPayout
from .money import check_amount, check_currency, quantize

__all__ = [
    "Split",
    "order_balance",
    "order_payout_amount",
    "order_payout_amount_from_total",
    "split_order",
]

# Enough digits that balance * percent is exact for any amount the API can carry.
_PRECISION: Final = 60
_ZERO: Final = Decimal(0)


@safe_repr
@attrs.frozen(slots=True)
class Split:
    """How a paid order's total divides: Ecart Pay's ``fee``, the ``seller``'s payout,
    and what stays with the ``merchant``. ``balance == seller + merchant`` always, and
    ``total == fee + balance`` unless the fee exceeds the total (the balance is then 0).
    """

    currency: str
    total: Decimal
    fee: Decimal
    balance: Decimal
    seller: Decimal
    merchant: Decimal


def _money(value: object, currency: str, field: str) -> Decimal:
    return check_amount(value, currency, field=field, allow_zero=True)


def order_balance(total: object, fee: object, *, currency: str) -> Decimal:
    """The post-fee balance of a paid order: ``total - fee``, never below zero."""
    code = check_currency(currency)
    balance = _money(total, code, "total") - _money(fee, code, "fee")
    return max(balance, _ZERO)


def order_payout_amount(balance: object, payout: OrderPayout, *, currency: str) -> Decimal:
    """The Decimal the seller receives from a post-fee ``balance`` (see the module doc).

    ``balance`` must be >= 0 and fit ``currency``'s minor unit, as must a fixed
    ``payout.amount``; otherwise :class:`~ecartpay_async.errors.ValidationError`.
    """
    code = check_currency(currency)
    available = _money(balance, code, "balance")
    if not isinstance(payout, OrderPayout):
        raise ValidationError("payout", f"must be an OrderPayout, not {type(payout).__name__}")
    if payout.percent:
        with localcontext() as context:
            context.prec = _PRECISION
            amount = quantize(available * payout.amount / 100, code, rounding=ROUND_HALF_UP)
    else:
        amount = check_amount(payout.amount, code, field="payout.amount")
    return min(amount, available)


def split_order(total: object, fee: object, payout: OrderPayout, *, currency: str) -> Split:
    """Divide a paid order's ``total`` between the fee, the seller and the merchant."""
    code = check_currency(currency)
    balance = order_balance(total, fee, currency=code)
    seller = order_payout_amount(balance, payout, currency=code)
    return Split(
        currency=code,
        total=_money(total, code, "total"),
        fee=_money(fee, code, "fee"),
        balance=balance,
        seller=seller,
        merchant=balance - seller,
    )


def order_payout_amount_from_total(
    total: object, fee: object, payout: OrderPayout, *, currency: str
) -> Decimal:
    """The seller's payout from the order ``total`` and Ecart Pay's ``fee`` on it."""
    return split_order(total, fee, payout, currency=currency).seller
