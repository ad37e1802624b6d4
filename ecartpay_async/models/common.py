"""Pieces shared by every model: the unknown-fields bag, text and email checks, statuses."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

from ..errors import ValidationError

# Deliberately simple: one "@", no spaces, a dot in the domain. Deliverability is
# the API's business; catching "ana.example.com" or "ana@" before sending is ours.
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


# Characters a reader cannot see, or that break a line: "payroll-1\n" and "payroll-1"
# print alike and are two reference_ids; "ana\u200b@example.com" is not ana's address.
_UNSEEN: Final = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than U+0020",
}


def visible_text_problem(value: str) -> str | None:
    """Why ``value`` is not plain visible text (its first control or invisible
    character, with its 0-based position), or None when it is."""
    if value.isascii() and value.isprintable():
        return None  # the common case, decided in C
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in _UNSEEN and char != " ":
            name = unicodedata.name(char, "")
            named = f" ({name})" if name else ""
            return f"contains {_UNSEEN[category]} U+{ord(char):04X}{named} at position {position}"
    return None


def check_visible(value: str, *, field: str) -> str:
    """Return ``value``, or refuse it when it holds a control or invisible character."""
    if value.isascii() and value.isprintable():
        return value  # the common case, decided in C without another call
    problem = visible_text_problem(value)
    if problem is not None:
        raise ValidationError(field, problem)
    return value


def check_email(value: object, *, field: str = "email") -> str:
    """Return ``value`` stripped when it looks like an email address, else refuse it."""
    email = value.strip() if isinstance(value, str) else ""
    if not email:
        raise ValidationError(field, "is required")
    check_visible(email, field=field)
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationError(field, f"{value!r} is not a valid email address")
    return email


def check_text(value: object, *, field: str, max_length: int = 255) -> str:
    """Return a non-empty string field, refusing blanks, non-strings, overlong text and
    control or invisible characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return check_visible(value, field=field)


class PayoutStatus(str, enum.Enum):
    """Payout statuses Ecart Pay is known to use.

    The API publishes no full list, so a ``Payout.status`` holds one of these when it
    knows the value and the plain string otherwise; both compare equal to strings
    (``payout.status == "paid"``).
    """

    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"
    CANCELED = "canceled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    REFUNDED = "refunded"

    def __str__(self) -> str:
        return self.value


#: Each known status by its text (``parse_status`` reads it; so does the one-pass
#: payout decoder, whose status is text already).
STATUS_BY_VALUE: Final = {status.value: status for status in PayoutStatus}


def parse_status(value: object) -> PayoutStatus | str:
    """The known :class:`PayoutStatus` for ``value``, or the string itself."""
    text = str(value)
    return STATUS_BY_VALUE.get(text, text)


class ExtraFields:
    """Mixin: a model's answer fields the SDK does not know, still reachable.

    ``payout.extra["new_field"]`` or, for names that are valid identifiers,
    ``payout.new_field``.
    """

    __slots__ = ()
    extra: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: fall back to the unknown fields.
        if name.startswith("__") or name == "extra":
            raise AttributeError(name)
        try:
            return self.extra[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None
