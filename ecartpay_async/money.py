"""Money: currencies, their minor units, and the one way an amount becomes a Decimal.

Every amount in the SDK passes through :func:`to_decimal` (what a user typed) and
:func:`check_amount` (what the currency allows). No float ever reaches arithmetic:
a float given by a user is read through ``str()``, which yields the shortest text
that round-trips (``0.1`` -> ``Decimal("0.1")``), never through its binary value.

Text is read from its text (:func:`read_amount`, the one reader for a CSV cell, a
command-line value or a ``str`` given to the Python API), never guessed: ``1.250``
BRL is refused rather than paid as 1.25 when a spreadsheet meant 1250, and so are
exponents, underscores, spaces, ``+`` signs, currency symbols and thousands
separators, unless the caller names the number format (``decimal_separator``).
A Decimal or an int is a value, not text: it is checked by value (``Decimal("1.250")``
is 1.25 and fits BRL).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal

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
_ZERO: Final = Decimal(0)

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

    Accepts Decimal, int, plain numeric text (:func:`read_number`), and floats
    (through ``str()``). Refuses booleans, NaN and infinities, and anything else,
    naming ``field``.
    """
    if isinstance(value, str):
        return read_number(value, field=field)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValidationError(field, "must be a number, not a boolean")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # str() of a float is Python's own rendering (1e+16), not a person's text.
        result = Decimal(str(value))
    else:
        raise ValidationError(field, f"must be a decimal number, not {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(field, f"must be a finite number, not {value!r}")
    return result


def wire_decimal(value: object, *, field: str = "number") -> Decimal:
    """A number in an API answer as an exact Decimal.

    JSON numbers arrive as Decimal or int already; a number the API sends as a
    string is read in JSON's own number syntax (exponents allowed), because it is
    the API's rendering of a value, not a person's text.
    """
    if type(value) is Decimal and value.is_finite():
        return value  # the usual answer, decoded to a Decimal already
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, f"{value!r} is not a decimal number") from None
        if not result.is_finite():
            raise ValidationError(field, f"must be a finite number, not {value!r}")
        return result
    return to_decimal(value, field=field)


#: The two number formats an operator can name: the decimal separator, the other
#: character being the thousands separator (between groups of three digits).
DecimalSeparator = Literal[".", ","]
DECIMAL_SEPARATORS: Final[tuple[DecimalSeparator, ...]] = (".", ",")

#: How the Python API settles an ambiguous text amount (the CLI names its option).
PYTHON_FORMAT_HINT: Final = (
    "pass a Decimal, or read the text with "
    "ecartpay_async.money.read_amount(text, currency, decimal_separator=',' or '.')"
)

# Without a named format: digits, optionally '.' and more digits; a leading '-' only.
_PLAIN: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
# With one: the other separator only between groups of three digits.
_GROUPED: Final[dict[str, re.Pattern[str]]] = {
    ",": re.compile(r"(-?)([1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+)(?:,([0-9]+))?"),
    ".": re.compile(r"(-?)([1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?"),
}
_NOT_FINITE: Final = re.compile(r"[+-]?(?:s?nan|inf|infinity)", re.IGNORECASE)
_EXPONENT: Final = re.compile(r"[0-9.,]e[+-]?[0-9]", re.IGNORECASE)
_NUMBER_CHARACTERS: Final = frozenset("0123456789.,-")
# A whole part that could be the thousands of a number whose '.' or ',' groups digits.
_THOUSANDS: Final = re.compile(r"[1-9][0-9]{0,2}")


def read_number(
    text: str,
    *,
    decimal_separator: DecimalSeparator | None = None,
    field: str = "amount",
    hint: str = PYTHON_FORMAT_HINT,
) -> Decimal:
    """Text as the exact Decimal it spells, keeping every fractional digit written.

    Without ``decimal_separator`` only plain numbers are read (``1250``, ``1250.5``,
    ``-3``). With ``","``, ``1.250,50`` is 1250.50 and ``.`` may only separate groups
    of three digits (``1.25,00`` is refused); with ``"."``, ``1,250.50`` is 1250.50.
    Anything else is refused naming ``field`` and why; ``hint`` says how to name the
    format (the command line and the Python API say it differently).
    """
    return _read(text, decimal_separator, field, hint)[0]


def _read(
    text: str, decimal_separator: DecimalSeparator | None, field: str, hint: str
) -> tuple[Decimal, int]:
    """:func:`read_number`'s Decimal and the count of fractional digits written."""
    stripped = text.strip()
    pattern = _PLAIN if decimal_separator is None else _GROUPED.get(decimal_separator)
    if pattern is None:
        raise ValidationError("decimal_separator", f"must be '.' or ',', not {decimal_separator!r}")
    match = pattern.fullmatch(stripped)
    if match is None:
        raise ValidationError(field, _unreadable(stripped, decimal_separator, hint))
    sign, whole, fraction = match.groups()
    written = len(fraction) if fraction else 0
    if pattern is _PLAIN:
        # Plain digits, a '.' and a '-' spell a Decimal as written.
        return Decimal(stripped), written
    whole = whole.replace(",", "").replace(".", "")
    return Decimal(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"), written


def _unreadable(text: str, separator: str | None, hint: str) -> str:
    """Why ``text`` is not a number in the format named (or the plain one)."""
    if not text:
        return "is empty"
    if _NOT_FINITE.fullmatch(text):
        return f"must be a finite number, not {text!r}"
    if _EXPONENT.search(text):
        return (f"{text!r} is in scientific notation (a spreadsheet's rounded display); "
                "write the amount's digits in full")
    if "_" in text:
        return f"{text!r} has an underscore; write the digits only"
    if any(char.isspace() for char in text):
        return f"{text!r} has a space inside; write the digits only"
    if "+" in text or "-" in text[1:]:
        return f"{text!r} has a sign other than a leading '-'"
    other = next((char for char in text if char not in _NUMBER_CHARACTERS), None)
    if other is not None:
        return (f"{text!r} is not a decimal number ({other!r} is not part of one; "
                "no currency symbols or letters)")
    if separator is None and ("," in text or text.count(".") > 1):
        return (f"{text!r} has a thousands separator or a decimal comma; "
                f"name the number format: {hint}")
    if separator is not None:
        grouping = "," if separator == "." else "."
        example = "1.250,50" if separator == "," else "1,250.50"
        return (f"{text!r} is not a number with {separator!r} as the decimal separator "
                f"and {grouping!r} only between groups of three digits (such as {example})")
    return f"{text!r} is not a decimal number (write it as 1250 or 1250.50)"


def read_amount(
    text: str,
    currency: str | None,
    *,
    decimal_separator: DecimalSeparator | None = None,
    field: str = "amount",
    allow_zero: bool = False,
    hint: str = PYTHON_FORMAT_HINT,
) -> Decimal:
    """A text amount in ``currency`` (a code already checked), read from its text.

    The text may carry at most as many fractional digits as the currency allows,
    even zeros: ``1.250`` BRL is refused (is it 1.25, or 1250 with a thousands
    separator?), ``1.000`` CLP too. Then the value is checked as :func:`check_amount`
    does. The format is :func:`read_number`'s.
    """
    number, written = _read(text, decimal_separator, field, hint)
    places = MAX_MINOR_UNIT if currency is None else minor_unit(currency)
    if written > places:
        raise ValidationError(field, _too_many_decimals(text.strip(), number, written, places,
                                                        currency, hint))
    return _fit(number, currency, places, field, allow_zero)


def _too_many_decimals(
    text: str, number: Decimal, written: int, places: int, currency: str | None, hint: str
) -> str:
    reason = f"{text!r} has too many decimals ({written}): {_allowed(currency, places)}"
    sign, whole, fraction = _split(text)
    if written != 3 or not _THOUSANDS.fullmatch(whole):
        return reason
    # Three digits after a single separator: the other reading is a thousands separator.
    try:
        fitted = number.quantize(_QUANTA[places])
    except InvalidOperation:  # more digits than the decimal context holds
        fitted = number
    as_value = fitted if fitted == number else number
    as_thousands = f"{sign}{whole}{fraction}"
    return f"{reason}; is it {as_value} or {as_thousands}? name the number format: {hint}"


def _split(text: str) -> tuple[str, str, str]:
    """Sign, whole digits and fraction digits of a number with one separator."""
    sign = "-" if text.startswith("-") else ""
    body = text.removeprefix("-")
    for separator, other in ((".", ","), (",", ".")):
        if body.count(separator) == 1 and other not in body:
            whole, fraction = body.split(separator)
            return sign, whole, fraction
    return sign, body, ""


def _allowed(currency: str | None, places: int) -> str:
    unit = f"{places} decimals" if places else "no decimals"
    return f"{currency} allows {unit}" if currency else f"amounts allow at most {unit}"


def minor_unit(currency: str) -> int:
    """Decimals allowed for ``currency`` (a code already checked)."""
    return MINOR_UNITS.get(currency, MAX_MINOR_UNIT)


def check_amount(
    value: object, currency: str | None, *, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """Return ``value`` as a positive Decimal quantized to the currency's minor unit.

    Text is read by :func:`read_amount` (its fractional digits count, even zeros);
    a Decimal, int or float is a value (``Decimal("1.250")`` is 1.25).

    ``currency=None`` checks against the largest minor unit any currency has. Raises
    :class:`ValidationError` naming ``field`` when the amount is not a number, not
    finite, not positive, or carries more decimals than the currency allows
    (``1.005`` MXN, ``10.5`` CLP). Nothing is ever rounded away.
    """
    if isinstance(value, str):
        return read_amount(value, currency, field=field, allow_zero=allow_zero)
    places = MAX_MINOR_UNIT if currency is None else minor_unit(currency)
    return _fit(to_decimal(value, field=field), currency, places, field, allow_zero)


def _fit(
    amount: Decimal, currency: str | None, places: int, field: str, allow_zero: bool
) -> Decimal:
    """``amount`` refused unless positive and within ``places`` decimals, then quantized
    to them (nothing is ever rounded away)."""
    if amount <= _ZERO and (amount < _ZERO or not allow_zero):
        raise ValidationError(field, f"must be greater than 0, got {amount}")
    try:
        quantized = amount.quantize(_QUANTA[places])
    except InvalidOperation:  # more digits than the decimal context holds
        raise ValidationError(field, f"{amount} is too large") from None
    if quantized != amount:
        allowed = _allowed(currency, places)
        raise ValidationError(field, f"{amount} has too many decimals: {allowed}")
    return quantized


def quantize(amount: Decimal, currency: str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a computed ``amount`` to the currency's minor unit (never a user's input)."""
    return amount.quantize(_QUANTA[minor_unit(currency)], rounding=rounding)
