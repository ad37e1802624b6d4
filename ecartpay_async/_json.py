"""JSON with exact decimals: numbers are read as Decimal and written from Decimal.

The stdlib's ``json`` reads floats as binary floats and cannot write a Decimal as a
number, so the SDK reads with ``parse_float=Decimal`` and writes through
:func:`dumps`, a small encoder for the plain shapes the API uses (dicts, lists,
strings, booleans, None, ints and Decimals). ``stringify`` renders like
JavaScript's ``JSON.stringify`` (compact, numbers without trailing zeros), which is
what webhook signatures are computed over.

:func:`loads_raw` reads text from strangers (a webhook body before its signature is
checked): every number stays its own text in a :class:`RawNumber`, so ``1e1000000``
costs no more than its nine characters until :func:`exact_numbers` is asked for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, NoReturn

from ._reprs import safe_repr

__all__ = [
    "JSONDecodeError",
    "RawNumber",
    "dumps",
    "exact_numbers",
    "loads",
    "loads_raw",
    "stringify",
]

JSONDecodeError = json.JSONDecodeError

_encode_str: Callable[[str], str] = json.encoder.encode_basestring
_encode_str_ascii: Callable[[str], str] = json.encoder.encode_basestring_ascii


def loads(data: str | bytes) -> Any:
    """Parse JSON, reading every non-integer number as an exact Decimal."""
    return json.loads(data, parse_float=Decimal)


@safe_repr
class RawNumber:
    """A JSON number as the text it had: converting it waits until it is wanted."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawNumber({self.text[:32]!r}{'...' if len(self.text) > 32 else ''})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _not_a_number(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


_RAW_DECODER: Final = json.JSONDecoder(
    parse_float=RawNumber, parse_int=RawNumber, parse_constant=_not_a_number
)


def loads_raw(text: str) -> Any:
    """Parse JSON in linear time: numbers stay :class:`RawNumber` (no conversion yet)."""
    return _RAW_DECODER.decode(text)


def raw_decoder() -> json.JSONDecoder:
    """The decoder :func:`loads_raw` uses (for ``raw_decode`` of one value in a text)."""
    return _RAW_DECODER


def exact_numbers(value: Any) -> Any:
    """``value`` with every :class:`RawNumber` converted: integers to int, others to an
    exact Decimal. Raises ValueError for an integer too long for Python to read."""
    if isinstance(value, RawNumber):
        text = value.text
        if "." in text or "e" in text or "E" in text:
            return Decimal(text)
        return int(text)
    if isinstance(value, dict):
        return {key: exact_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact_numbers(item) for item in value]
    return value


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot encode non-finite amount {value} as JSON")
    return format(value, "f")


def _js_number_text(value: Decimal) -> str:
    # JSON.stringify writes 1000.00 as 1000 and 962.180 as 962.18.
    if not value.is_finite():
        raise ValueError(f"cannot encode non-finite number {value} as JSON")
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


#: A raw number beyond these bounds is written as it came: rendering it the way
#: JavaScript would means expanding it, which costs time an attacker chooses.
_RAW_RENDER_MAX_CHARS: Final = 64
_RAW_RENDER_MAX_EXPONENT: Final = 64


def _js_raw_number_text(raw: RawNumber) -> str:
    text = raw.text
    if len(text) > _RAW_RENDER_MAX_CHARS:
        return text
    value = Decimal(text)
    if abs(value.adjusted()) > _RAW_RENDER_MAX_EXPONENT:
        return text
    return _js_number_text(value)


_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _js_str(value: str) -> str:
    # JSON.stringify escapes a lone surrogate (\ud800) instead of writing it raw.
    text = _encode_str(value)
    if _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def has_lone_surrogate(value: str) -> bool:
    """Whether ``value`` holds half of a UTF-16 pair (text no UTF-8 can carry)."""
    return _LONE_SURROGATE.search(value) is not None


def _raw_text(raw: RawNumber) -> str:
    return raw.text


def _encoder(
    number: Callable[[Decimal], str],
    raw_number: Callable[[RawNumber], str],
    string: Callable[[str], str],
    item_sep: str,
    key_sep: str,
) -> Callable[[Any], str]:
    def encode(obj: Any) -> str:
        if isinstance(obj, str):
            return string(obj)
        if obj is None:
            return "null"
        if obj is True:
            return "true"
        if obj is False:
            return "false"
        if isinstance(obj, int):
            return str(int(obj))
        if isinstance(obj, Decimal):
            return number(obj)
        if isinstance(obj, RawNumber):
            return raw_number(obj)
        if isinstance(obj, Mapping):
            inner = item_sep.join(string(str(k)) + key_sep + encode(v) for k, v in obj.items())
            return "{" + inner + "}"
        if isinstance(obj, (list, tuple)):
            return "[" + item_sep.join(encode(v) for v in obj) + "]"
        if isinstance(obj, float):
            raise TypeError("floats are not accepted in amounts; use decimal.Decimal")
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")

    return encode


_dumps = _encoder(_decimal_text, _raw_text, _encode_str, ",", ":")
_stringify = _encoder(_js_number_text, _js_raw_number_text, _js_str, ",", ":")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON with every Decimal written exactly (``Decimal("10.50")`` -> ``10.50``)."""
    return _dumps(obj).encode()


def stringify(obj: Any) -> str:
    """Text equal to JavaScript's ``JSON.stringify(obj)`` for the API's JSON shapes."""
    return _stringify(obj)


def dumps_ascii(obj: Any) -> str:
    """Like :func:`dumps` but ASCII-only text (for logs and reports)."""
    return _encoder(_decimal_text, _raw_text, _encode_str_ascii, ", ", ": ")(obj)
