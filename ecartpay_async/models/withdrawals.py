"""Withdrawals: money taken from the account's balance to its bank (``GET /api/withdrawals``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._reprs import safe_repr
from .common import ExtraFields

__all__ = ["Withdrawal"]


@safe_repr
@attrs.frozen(slots=True)
class Withdrawal(ExtraFields):
    """One withdrawal; ``status`` is the API's string (``processing``, ``paid``...).

    Amounts are exact Decimals; fields the API adds land in ``extra``.
    """

    id: str
    status: str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None
    currency: str | None = None
    reference: str | None = None
    reference_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
