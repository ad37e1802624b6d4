"""The sandbox's own JSON: exact decimals in and out, read as strictly as a server would.

Why not the SDK's ``_json``: exact decimal JSON is a wire concern, and the wire is
where the sandbox witnesses the SDK. Were the SDK to write ten as ``1E+1``, read
``10.50`` through a binary float or send a key twice, an emulator parsing with the
SDK's own code would agree with it and no test could notice. So the sandbox reads
with the standard library directly (``parse_float=Decimal``; ``NaN``, ``Infinity``
and duplicate keys refused) and writes with the small encoder below, which shares
nothing with the SDK's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NoReturn

__all__ = ["dumps", "loads", "stringify"]

_string: Callable[[str], str] = json.encoder.encode_basestring


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Which of two "amount" keys counts is a parser's whim: a strict server refuses both.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def loads(data: str | bytes) -> Any:
    """Parse JSON; every number with a fraction or exponent becomes an exact Decimal."""
    return json.loads(
        data, parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_unique_keys
    )


def _plain(value: Decimal) -> str:
    # Decimal("10.50") -> 10.50 and Decimal("1E+1") -> 10: never an exponent.
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    return format(value, "f")


def _like_javascript(value: Decimal) -> str:
    # JSON.stringify(1000.00) is 1000 and JSON.stringify(962.180) is 962.18.
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def _write(obj: Any, number: Callable[[Decimal], str]) -> str:
    if isinstance(obj, str):
        return _string(obj)
    if obj is None or isinstance(obj, bool):
        return "null" if obj is None else "true" if obj else "false"
    if isinstance(obj, int):
        return str(int(obj))
    if isinstance(obj, Decimal):
        return number(obj)
    if isinstance(obj, Mapping):
        members = (f"{_string(str(k))}:{_write(v, number)}" for k, v in obj.items())
        return "{" + ",".join(members) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_write(v, number) for v in obj) + "]"
    raise TypeError(f"the sandbox writes no {type(obj).__name__} in JSON (amounts are Decimal)")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, every Decimal written exactly as held (``10.50`` stays ``10.50``)."""
    return _write(obj, _plain).encode()


def stringify(obj: Any) -> str:
    """What JavaScript's ``JSON.stringify`` writes for the same data: webhook signatures
    are computed over it."""
    return _write(obj, _like_javascript)
