"""Money: currencies, their minor units, and the one way an amount becomes a Decimal.

Every amount in the SDK passes through :func:`to_decimal` (what a user typed) and
:func:`check_amount` (what the currency allows). No float ever reaches arithmetic:
a float given by a user is read through ``str()``, which yields the shortest text
that round-trips (``0.1`` -> ``Decimal("0.1")``), never through its binary value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from .errors import ValidationError

#: Currencies Ecart Pay lists, with the number of decimals their amounts may carry.
MINOR_UNITS: Final[dict[str, int]] = {
    "USD": 2,
    "INR": 2,
    "MXN": 2,
    "BRL": 2,
    "COP": 2,
    "ARS": 2,
    "GTQ": 2,
    "CLP": 0,
    "PEN": 2,
    "CAD": 2,
    "EUR": 2,
    "AUD": 2,
}

#: The most decimals any supported currency allows; used where the currency is unknown.
MAX_MINOR_UNIT: Final = max(MINOR_UNITS.values())

_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(MAX_MINOR_UNIT + 1)}

AmountLike = Decimal | int | str | float


def check_currency(value: object, *, field: str = "currency") -> str:
    """Return the currency code upper-cased, or refuse one Ecart Pay does not list."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a currency code such as 'MXN'")
    code = value.strip().upper()
    if code not in MINOR_UNITS:
        known = ", ".join(sorted(MINOR_UNITS))
        raise ValidationError(field, f"unknown currency {value!r}; expected one of {known}")
    return code


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Read a user's amount as an exact, finite Decimal.

    Accepts Decimal, int, numeric strings, and floats (through ``str()``). Refuses
    booleans, NaN and infinities, and anything else, naming ``field``.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValidationError(field, "must be a number, not a boolean")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = _parse(str(value), field)
    elif isinstance(value, str):
        result = _parse(value.strip(), field)
    else:
        raise ValidationError(field, f"must be a decimal number, not {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(field, f"must be a finite number, not {value!r}")
    return result


def _parse(text: str, field: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(field, f"{text!r} is not a decimal number") from None


def minor_unit(currency: str) -> int:
    """Decimals allowed for ``currency`` (a code already checked)."""
    return MINOR_UNITS.get(currency, MAX_MINOR_UNIT)


def check_amount(
    value: object, currency: str | None, *, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """Return ``value`` as a positive Decimal quantized to the currency's minor unit.

    ``currency=None`` checks against the largest minor unit any currency has. Raises
    :class:`ValidationError` naming ``field`` when the amount is not a number, not
    finite, not positive, or carries more decimals than the currency allows
    (``1.005`` MXN, ``10.5`` CLP). Nothing is ever rounded away.
    """
    amount = to_decimal(value, field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(field, f"must be greater than 0, got {amount}")
    places = MAX_MINOR_UNIT if currency is None else minor_unit(currency)
    try:
        quantized = amount.quantize(_QUANTA[places])
    except InvalidOperation:  # more digits than the decimal context holds
        raise ValidationError(field, f"{amount} is too large") from None
    if quantized != amount:
        unit = f"{places} decimals" if places else "no decimals"
        where = f"{currency} allows" if currency else "amounts allow at most"
        raise ValidationError(field, f"{amount} has too many decimals: {where} {unit}")
    return quantized


def quantize(amount: Decimal, currency: str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a computed ``amount`` to the currency's minor unit (never a user's input)."""
    return amount.quantize(_QUANTA[minor_unit(currency)], rounding=rounding)
