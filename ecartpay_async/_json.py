"""JSON with exact decimals: numbers are read as Decimal and written from Decimal.

The stdlib's ``json`` reads floats as binary floats and cannot write a Decimal as a
number, so the SDK reads with ``parse_float=Decimal`` and writes through
:func:`dumps`, a small encoder for the plain shapes the API uses (dicts, lists,
strings, booleans, None, ints and Decimals). ``stringify`` renders like
JavaScript's ``JSON.stringify`` (compact, numbers without trailing zeros), which is
what webhook signatures are computed over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["JSONDecodeError", "dumps", "loads", "stringify"]

JSONDecodeError = json.JSONDecodeError

_encode_str: Callable[[str], str] = json.encoder.encode_basestring
_encode_str_ascii: Callable[[str], str] = json.encoder.encode_basestring_ascii


def loads(data: str | bytes) -> Any:
    """Parse JSON, reading every non-integer number as an exact Decimal."""
    return json.loads(data, parse_float=Decimal)


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


def _encoder(
    number: Callable[[Decimal], str], string: Callable[[str], str], item_sep: str, key_sep: str
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
        if isinstance(obj, Mapping):
            inner = item_sep.join(string(str(k)) + key_sep + encode(v) for k, v in obj.items())
            return "{" + inner + "}"
        if isinstance(obj, (list, tuple)):
            return "[" + item_sep.join(encode(v) for v in obj) + "]"
        if isinstance(obj, float):
            raise TypeError("floats are not accepted in amounts; use decimal.Decimal")
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")

    return encode


_dumps = _encoder(_decimal_text, _encode_str, ",", ":")
_stringify = _encoder(_js_number_text, _encode_str, ",", ":")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON with every Decimal written exactly (``Decimal("10.50")`` -> ``10.50``)."""
    return _dumps(obj).encode()


def stringify(obj: Any) -> str:
    """Text equal to JavaScript's ``JSON.stringify(obj)`` for the API's JSON shapes."""
    return _stringify(obj)


def dumps_ascii(obj: Any) -> str:
    """Like :func:`dumps` but ASCII-only text (for logs and reports)."""
    return _encoder(_decimal_text, _encode_str_ascii, ", ", ": ")(obj)
