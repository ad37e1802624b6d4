"""Pieces shared by every model: the unknown-fields bag, email checks, statuses."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, Final

from ..errors import ValidationError

# Deliberately simple: one "@", no spaces, a dot in the domain. Deliverability is
# the API's business; catching "ana.example.com" or "ana@" before sending is ours.
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def check_email(value: object, *, field: str = "email") -> str:
    """Return ``value`` stripped when it looks like an email address, else refuse it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "is required")
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationError(field, f"{value!r} is not a valid email address")
    return email


def check_text(value: object, *, field: str, max_length: int = 255) -> str:
    """Return a non-empty string field, refusing blanks, non-strings and overlong text."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


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


_STATUSES: Final = {status.value: status for status in PayoutStatus}


def parse_status(value: object) -> PayoutStatus | str:
    """The known :class:`PayoutStatus` for ``value``, or the string itself."""
    text = str(value)
    return _STATUSES.get(text, text)


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
