"""The one cattrs converter: API JSON in, attrs models out, and back.

Rules kept here and nowhere else:

* money is ``Decimal``: JSON numbers arrive as Decimal or int (see ``_json``) and are
  never routed through float;
* timestamps are ISO-8601 and become aware UTC datetimes (naive ones are read as UTC);
* statuses the SDK does not know stay plain strings;
* answer fields the SDK does not know go to the model's ``extra`` mapping;
* a ``null`` in an answer means "not given" and falls back to the field's default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from .models.common import STATUS_BY_VALUE, PayoutStatus, parse_status
from .money import wire_decimal

if TYPE_CHECKING:
    from .models.payouts import Payout

__all__ = [
    "ShapeError",
    "converter",
    "format_datetime",
    "parse_datetime",
    "parse_iso",
    "payout_from_json",
    "structure",
    "structure_payout",
]

T = TypeVar("T")

converter = cattrs.Converter()


class ShapeError(ValueError):
    """An answer that does not fit the model it should be (raised by :func:`structure`)."""


def parse_iso(text: str) -> datetime:
    """ISO-8601 text as written, its offset kept (None if it has none); a final ``Z`` is
    UTC, which Python 3.10's ``fromisoformat`` does not read."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def parse_datetime(value: object) -> datetime:
    """ISO-8601 text (``2021-11-29T20:49:23.889Z``) or a datetime, as an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = parse_iso(value)
    else:
        raise ValueError(f"expected an ISO-8601 timestamp, got {value!r}")
    zone = parsed.tzinfo
    if zone is None:
        return parsed.replace(tzinfo=timezone.utc)
    # Already UTC (a "Z" or "+00:00" answer, the usual case): nothing to convert.
    return parsed if zone is timezone.utc else parsed.astimezone(timezone.utc)


def format_datetime(value: datetime) -> str:
    """An aware datetime as the API writes it: UTC, milliseconds, ``Z``."""
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _structure_decimal(value: object, _: object) -> Decimal:
    return wire_decimal(value, field="number")


converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_unstructure_hook(Decimal, lambda value: value)
converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
converter.register_unstructure_hook(datetime, format_datetime)


def _open_enum(tp: Any) -> type[enum.Enum] | None:
    """The string enum of a status type such as ``PayoutStatus | str``, if ``tp`` is one."""
    for arg in getattr(tp, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, enum.Enum) and issubclass(arg, str):
            return arg
    return None


def _structure_open_enum(value: object, tp: Any) -> enum.Enum | str:
    members = _open_enum(tp)
    assert members is not None
    try:
        return members(str(value))
    except ValueError:
        return str(value)


# Status fields are typed ``SomeStatus | str`` (optionally ``| None``): a known value
# becomes the enum member, an unknown one stays a string.
converter.register_structure_hook_func(lambda tp: _open_enum(tp) is not None, _structure_open_enum)


def _has_extra(cls: type) -> bool:
    return attrs.has(cls) and any(f.name == "extra" for f in attrs.fields(cls))


def _extra_structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
    """Structure ``cls`` with unknown keys collected into its ``extra`` field."""
    known = frozenset(f.name for f in attrs.fields(cls)) - {"extra"}
    base = make_dict_structure_fn(cls, converter)

    def structure_with_extra(data: Any, _: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ShapeError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                if value is not None:
                    fields[key] = value
            else:
                extra[key] = value
        fields["extra"] = extra
        return base(fields, cls)

    return structure_with_extra


converter.register_structure_hook_factory(_has_extra, _extra_structure_hook)


def _extra_unstructure_hook(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """Unstructure to the API's shape: defaults left out, ``extra`` merged back in."""
    fields = [(f.name, f.default) for f in attrs.fields(cls) if f.name != "extra"]

    def unstructure_with_extra(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, default in fields:
            value = getattr(obj, name)
            if value is None or (value == () and default == ()):
                continue
            out[name] = converter.unstructure(value)
        out.update(obj.extra)
        return out

    return unstructure_with_extra


converter.register_unstructure_hook_factory(_has_extra, _extra_unstructure_hook)
converter.register_unstructure_hook(PayoutStatus, lambda status: status.value)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from decoded JSON, raising :class:`ShapeError` when it does not fit."""
    try:
        return converter.structure(data, cls)
    except ShapeError:
        raise
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        detail = "; ".join(_leaf_messages(exc)) or repr(exc)
        raise ShapeError(f"answer does not fit {cls.__name__}: {detail}") from exc


def _leaf_messages(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        messages: list[str] = []
        for sub in exc.exceptions:
            messages.extend(_leaf_messages(sub))
        return messages[:3]
    if isinstance(exc, KeyError):
        return [f"missing field {exc.args[0]!r}"]
    return [f"{type(exc).__name__}: {exc}"]


def unstructure(obj: Any) -> Any:
    """Plain dicts and lists for ``_json.dumps`` (Decimals stay Decimals)."""
    return converter.unstructure(obj)


# -- the common payout, structured without cattrs -------------------------------------
#
# A payout answer is structured once per payout of a batch; cattrs's generated code
# plus the ``extra`` hook costs ~14 µs of it. The usual shape (plain text, Decimal or
# int amounts, ISO times, no transactions) is read here with the very same rules
# (``to_decimal``, ``parse_datetime``, open statuses, nulls as defaults, unknown keys
# to ``extra``); anything unusual is handed to the converter above, unchanged.

_TEXT, _MONEY, _TIME, _STATUS, _FLAG, _OTHER = range(6)
#: How each field of the usual payout is read; a field not here is left to cattrs.
_PAYOUT_KINDS: dict[str, int] = {
    **dict.fromkeys((
        "id", "currency", "reference_id", "reference", "account_id", "authorization_id",
        "email", "customer_id", "payment_method_id",
    ), _TEXT),
    **dict.fromkeys(("amount", "fee", "exchange"), _MONEY),
    **dict.fromkeys(("available_at", "created_at", "updated_at"), _TIME),
    "status": _STATUS,
    "require_confirmation": _FLAG,
}
_REQUIRED = ("id", "status", "amount", "currency")


def structure_payout(data: Any, cls: type[T]) -> T:
    """``structure(data, Payout)``, fast for the usual shape (``cls`` is ``Payout``)."""
    if type(data) is not dict or cls is not _PAYOUT:
        return structure(data, cls)
    # The constructor's arguments in field order, defaults first: a positional call
    # costs less than one by keyword.
    values = _PAYOUT_DEFAULTS.copy()
    extra: dict[str, Any] = {}
    where = _PAYOUT_SLOTS.get
    for key, value in data.items():
        kind, slot = where(key, _UNKNOWN)
        if value is None:
            if kind == _OTHER and key not in _PAYOUT_FIELDS:
                extra[key] = value
            continue  # a known field's null means "not given": its default
        kind_of_value = type(value)
        if kind == _TEXT:
            if kind_of_value is not str:
                return structure(data, cls)
            values[slot] = value
        elif kind == _MONEY:
            if kind_of_value is not Decimal and kind_of_value is not int:
                return structure(data, cls)
            try:
                values[slot] = wire_decimal(value, field="number")
            except ValueError:
                return structure(data, cls)  # the converter words the error
        elif kind == _TIME:
            if kind_of_value is not str:
                return structure(data, cls)
            try:
                values[slot] = parse_datetime(value)
            except ValueError:
                return structure(data, cls)  # the converter words the error
        elif kind == _STATUS:
            if kind_of_value is not str:
                return structure(data, cls)
            values[slot] = parse_status(value)
        elif kind == _FLAG:
            if kind_of_value is not bool:
                return structure(data, cls)
            values[slot] = value
        elif key in _PAYOUT_FIELDS:  # transactions, or a field added to the model
            return structure(data, cls)
        else:
            extra[key] = value
    for slot in _PAYOUT_REQUIRED:
        if values[slot] is None:
            return structure(data, cls)  # the converter names what is missing
    values[_PAYOUT_EXTRA] = extra
    make: Any = cls
    try:
        return make(*values)  # type: ignore[no-any-return]
    except (TypeError, ValueError):
        return structure(data, cls)


def _payout_tables() -> tuple[
    type, frozenset[str], list[Any], dict[str, tuple[int, int]], list[int], int
]:
    """Payout, its fields but ``extra``, its constructor's defaults in field order (None
    for a required field), each known key's kind and position, the required fields'
    and ``extra``'s positions."""
    from .models.payouts import Payout

    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(Payout)
    position = {field.name: index for index, field in enumerate(fields)}
    defaults = [None if field.default is attrs.NOTHING else field.default for field in fields]
    slots = {key: (kind, position[key]) for key, kind in _PAYOUT_KINDS.items()}
    names = frozenset(position) - {"extra"}
    required = [position[name] for name in _REQUIRED]
    return Payout, names, defaults, slots, required, position["extra"]


(_PAYOUT, _PAYOUT_FIELDS, _PAYOUT_DEFAULTS, _PAYOUT_SLOTS, _PAYOUT_REQUIRED,
 _PAYOUT_EXTRA) = _payout_tables()
_UNKNOWN = (_OTHER, -1)


# -- the documented payout answer, decoded and typed in one pass ---------------------
#
# The answer Ecart Pay documents (exactly the fields in _PAYOUT_KINDS, each of its
# usual JSON type) is decoded straight into a msgspec struct built from that same
# table, in C: ~1.3 µs for what JSON decoding plus the table above take ~6 µs for.
# The struct refuses anything else (an unknown key, a wrong type, a naive time), and
# the caller then decodes the answer and structures it as above: one set of rules.


def payout_from_json(content: bytes) -> Payout | None:
    """The :class:`~.models.payouts.Payout` a documented payout answer spells, or None
    when ``content`` is anything else (read it with :func:`structure_payout`)."""
    return read_payout(content)


def _first_read_payout(content: bytes) -> Payout | None:
    global read_payout
    read_payout = _documented_decoder()
    return read_payout(content)


#: :func:`payout_from_json` itself once the decoder is made (msgspec is imported at the
#: first payout answer, not with the SDK): the resources call it by this name, one
#: function call less per payout.
read_payout: Callable[[bytes], Payout | None] = _first_read_payout


def _documented_decoder() -> Callable[[bytes], Payout | None]:
    """Decode a documented payout answer (None otherwise); msgspec is imported here,
    at the first payout answer, not with the SDK."""
    from typing import Annotated

    import msgspec

    aware = Annotated[datetime, msgspec.Meta(tz=True)]  # a naive time: the table's rules
    kinds: dict[int, Any] = {_TEXT: str, _MONEY: Decimal, _TIME: aware, _STATUS: str,
                             _FLAG: bool}
    fields: list[Any] = []
    for field in attrs.fields(_PAYOUT):
        if field.name not in _PAYOUT_KINDS:
            continue  # transactions, extra: such an answer is the table's
        kind = kinds[_PAYOUT_KINDS[field.name]]
        required = field.name in _REQUIRED
        fields.append((field.name, kind) if required else (field.name, kind | None, None))
    names = [f[0] for f in fields]
    # The struct's fields are the Payout's leading fields, in order: a positional call.
    assert names == [f.name for f in attrs.fields(_PAYOUT)][: len(names)]
    documented = msgspec.defstruct("DocumentedPayout", fields, forbid_unknown_fields=True)
    decode = msgspec.json.Decoder(documented).decode
    as_tuple = msgspec.structs.astuple
    money = [i for i, name in enumerate(names) if _PAYOUT_KINDS[name] == _MONEY]
    times = [i for i, name in enumerate(names) if _PAYOUT_KINDS[name] == _TIME]
    status = names.index("status")
    utc = timezone.utc
    make: Any = _PAYOUT
    statuses = STATUS_BY_VALUE

    def read(content: bytes) -> Payout | None:
        try:
            values = list(as_tuple(decode(content)))
        except msgspec.MsgspecError:
            return None
        for index in money:
            value = values[index]
            if value is not None and not value.is_finite():
                return None  # NaN written as text: the table's rules word the error
        for index in times:
            value = values[index]
            if value is not None and value.tzinfo is not utc:
                values[index] = value.astimezone(utc)
        # The status is text (the struct says so): parse_status without its str().
        text = values[status]
        values[status] = statuses.get(text, text)
        payout: Payout = make(*values)
        return payout

    return read

