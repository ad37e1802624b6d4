"""The processing fee the sandbox takes when an order is paid.

``fee = round((total * percent / 100 + fixed) * (1 + tax / 100))`` to the currency's
minor unit, half up, at most the total. Rounding happens once, at the end. The
default (3.26 %, no fixed part, 16 % IVA) reproduces the fee in Ecart Pay's own
worked example: 37.82 on 1,000.00 MXN. ``FeeSchedule(percent="3.5", fixed="3",
tax="16")`` reproduces the OpenAPI example instead: 7.54 on 100.00 MXN.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import field, frozen

from ._reprs import safe_repr
from .currencies import configured_number, round_to_minor_unit

__all__ = ["FeeSchedule"]


def _non_negative(value: object) -> Decimal:
    amount = configured_number(value, "fee schedule")
    if amount < 0:
        raise ValueError(f"fee schedule values must not be negative, got {amount}")
    return amount


@safe_repr
@frozen
class FeeSchedule:
    """Percent of the total plus a fixed amount, with tax on top of both."""

    percent: Decimal = field(default=Decimal("3.26"), converter=_non_negative)
    fixed: Decimal = field(default=Decimal("0"), converter=_non_negative)
    tax: Decimal = field(default=Decimal("16"), converter=_non_negative)

    def fee(self, total: Decimal, currency: str) -> Decimal:
        """The fee on an order of ``total`` in ``currency``."""
        raw = (total * self.percent / 100 + self.fixed) * (1 + self.tax / 100)
        return min(round_to_minor_unit(raw, currency), total)
