"""The account's money movements (``GET /api/transactions``) and their summary.

Not to be confused with :class:`~.payouts.Transaction`, the charge and payment
behind one customer payout: an :class:`AccountTransaction` is a line of the
account's own statement (a payment received, a refund, a payout, a withdrawal).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._reprs import safe_repr
from .common import ExtraFields

__all__ = ["AccountTransaction", "TransactionSummary"]


@safe_repr
@attrs.frozen(slots=True)
class AccountTransaction(ExtraFields):
    """One movement of the account's money.

    ``type`` is what moved it (``payment``, ``charge``, ``refund``, ``payout``,
    ``withdrawal``...) and ``status`` where it stands (``created``, ``paid``,
    ``reimbursed``...); both stay the API's strings, since it publishes no full list.
    Amounts are exact Decimals; fields the API adds land in ``extra``.
    """

    id: str
    type: str | None = None
    status: str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None
    net: Decimal | None = None
    currency: str | None = None
    reference: str | None = None
    reference_id: str | None = None
    order_id: str | None = None
    payout_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
@attrs.frozen(slots=True)
class TransactionSummary(ExtraFields):
    """Totals of one currency (``GET /api/transactions/summary?currency=``).

    Ecart Pay does not publish this answer's shape: the fields below are read when
    present (``balance`` the available balance, ``pay_ins`` and ``payouts`` the money
    in and out) and everything else is kept in ``extra``.
    """

    currency: str
    balance: Decimal | None = None
    pay_ins: Decimal | None = None
    payouts: Decimal | None = None
    fees: Decimal | None = None
    refunds: Decimal | None = None
    withdrawals: Decimal | None = None
    count: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
