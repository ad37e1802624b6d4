"""Money as the emulated API accepts it, written from the reference documents alone.

The sandbox never asks the SDK what a valid amount is: an SDK rule gone wrong must
meet a server that still follows the documents. Sources (``/shared/reference``):

* currencies: the OpenAPI file's table (USD, INR, MXN, BRL, COP, ARS, GTQ, CLP, PEN,
  CAD, EUR, AUD, its ``ARG``/``AUS`` typos corrected, API-NOTES); codes are written
  upper-case as in every documented example, and only so (our choice: the real API's
  tolerance is unknown, and a stricter witness can only make the SDK more careful);
* minor units: CLP has none, every other currency two decimals (API-NOTES);
* an amount is a JSON number greater than 0 (send-money-from-orders: "Must be greater
  than 0"); one finer than the currency's minor unit is refused, never rounded.

Every refusal is a ``ValueError`` whose text starts with the field's name.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

__all__ = ["DECIMALS", "check_amount", "check_currency", "configured_number", "round_to_minor_unit"]

DECIMALS: Final[dict[str, int]] = {
    **dict.fromkeys(("USD", "INR", "MXN", "BRL", "COP", "ARS", "GTQ"), 2),
    "CLP": 0,
    **dict.fromkeys(("PEN", "CAD", "EUR", "AUD"), 2),
}

def check_currency(value: object, field: str = "currency") -> str:
    if not isinstance(value, str) or value not in DECIMALS:
        listed = ", ".join(sorted(DECIMALS))
        raise ValueError(f"{field}: unknown currency {value!r}; expected one of {listed}")
    return value


def check_amount(
    value: Decimal | int, currency: str, field: str = "amount", *, allow_zero: bool = False
) -> Decimal:
    """``value`` as a Decimal written to ``currency``'s minor unit (``10`` MXN is ``10.00``)."""
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{field}: must be a finite number, got {amount}")
    if amount < 0 or (amount == 0 and not allow_zero):
        bound = "must not be negative" if allow_zero else "must be greater than 0"
        raise ValueError(f"{field}: {bound}, got {amount}")
    places = DECIMALS[currency]
    try:
        exact = amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than a Decimal context holds
        raise ValueError(f"{field}: {amount} is too large") from None
    if exact != amount:
        unit = f"{places} decimals" if places else "no decimals"
        raise ValueError(f"{field}: {amount} has too many decimals; {currency} allows {unit}")
    return exact


def configured_number(value: object, field: str) -> Decimal:
    """A number given to the sandbox's configuration (balances, fees) in Python: a
    Decimal, an int, a numeric string, or a float read through ``str()``."""
    if isinstance(value, float):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"{field}: must be a decimal number, not {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{field}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{field}: must be a finite number, got {value!r}")
    return number


def round_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """A computed amount (a fee, a share) rounded half up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-DECIMALS[currency]), rounding=ROUND_HALF_UP)
