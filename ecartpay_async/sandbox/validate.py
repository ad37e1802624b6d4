"""Reading request bodies as a strict server would: every refusal names its field.

The sandbox's own rules, independent of the SDK's (it imports nothing of the SDK's
models, money or validation): money from :mod:`.currencies`, JSON from :mod:`.wire`.
Where the documents are silent the sandbox is strict, and says so here:

* text fields refuse control and invisible characters (Unicode categories Cc, Cf,
  Cs, Zl, Zp, and any space other than U+0020): a reference_id holding a newline or a
  zero-width space looks like another one and is not (our choice);
* amounts are JSON numbers, never strings or booleans (the documents' type).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final, Literal, NoReturn

from . import currencies, wire

__all__ = ["ERROR_STYLES", "Body", "ErrorStyle", "SandboxHTTPError", "answer_status"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_UNSEEN: Final = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _unseen_character(text: str) -> str | None:
    """Why ``text`` is refused, naming its first control or invisible character."""
    if text.isascii() and text.isprintable():
        return None  # the common case, decided in C
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if category in _UNSEEN or (category == "Zs" and char != " "):
            return f"contains the character U+{ord(char):04X} ({category}) at position {position}"
    return None


class SandboxHTTPError(Exception):
    """An API error answer: ``{"message": ..., "statusCode": status}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "statusCode": self.status}


#: How an error answer carries its status: ``"http"`` in the HTTP status (the body
#: repeats it), or ``"openapi"`` as Ecart Pay's OpenAPI file shows it: HTTP 500 with
#: the refusal's status in the body's ``statusCode`` (401 and 429 keep theirs).
ErrorStyle = Literal["http", "openapi"]
ERROR_STYLES: Final = ("http", "openapi")


def answer_status(style: ErrorStyle, status: int) -> int:
    """The HTTP status an error with ``status`` is answered with, in ``style``."""
    if style == "openapi" and 400 <= status < 500 and status not in (401, 429):
        return 500
    return status


def bad_request(message: str) -> NoReturn:
    raise SandboxHTTPError(400, message)


def parse_json(raw: bytes, *, required: bool = True) -> Mapping[str, Any]:
    """A request body as a JSON object (an empty body reads as ``{}`` unless required)."""
    if not raw.strip():
        if required:
            bad_request("request body is required")
        return {}
    try:
        body = wire.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError included
        bad_request(f"request body is not valid JSON ({exc})")
    if not isinstance(body, dict):
        bad_request("request body must be a JSON object")
    return body


class Body:
    """Typed reads of one JSON object's fields; ``prefix`` qualifies nested names."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _missing(self, key: str) -> NoReturn:
        bad_request(f"{self.name(key)} is required")

    def string(
        self, key: str, *, required: bool = True, max_length: int = 255, allow_empty: bool = False
    ) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self._missing(key)
            return None
        if not isinstance(value, str):
            bad_request(f"{self.name(key)} must be a string")
        if not allow_empty and not value.strip():
            bad_request(f"{self.name(key)} must not be empty")
        if len(value) > max_length:
            bad_request(f"{self.name(key)} must be at most {max_length} characters")
        unseen = _unseen_character(value)
        if unseen:
            bad_request(f"{self.name(key)} {unseen}")
        return value

    def required_string(self, key: str, *, max_length: int = 255) -> str:
        value = self.string(key, max_length=max_length)
        assert value is not None
        return value

    def email(self, key: str = "email") -> str:
        value = self.required_string(key, max_length=254)
        if not _EMAIL.fullmatch(value):
            bad_request(f"{self.name(key)} {value!r} is not a valid email address")
        return value.lower()

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            bad_request(f"{self.name(key)} must be true or false")
        return value

    def currency(self, key: str = "currency") -> str:
        value = self.data.get(key)
        if value is None:
            self._missing(key)
        try:
            return currencies.check_currency(value, self.name(key))
        except ValueError as exc:
            bad_request(str(exc))

    def _number(self, key: str) -> Decimal | int:
        value = self.data.get(key)
        if value is None:
            self._missing(key)
        # Amounts are JSON numbers: "10.00" as a string or true are refused.
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            bad_request(f"{self.name(key)} must be a number")
        return value

    def amount(self, key: str, currency: str, *, allow_zero: bool = False) -> Decimal:
        value = self._number(key)
        try:
            return currencies.check_amount(value, currency, self.name(key), allow_zero=allow_zero)
        except ValueError as exc:
            bad_request(str(exc))

    def number(self, key: str, *, minimum: Decimal = Decimal(0), positive: bool = False) -> Decimal:
        value = Decimal(self._number(key))
        if not value.is_finite():
            bad_request(f"{self.name(key)} must be a finite number")
        if value < minimum or (positive and value == 0):
            bound = "greater than" if positive else "at least"
            bad_request(f"{self.name(key)} must be {bound} {minimum}, got {value}")
        return value

    def datetime(self, key: str) -> float | None:
        """An ISO-8601 timestamp as epoch seconds (naive times are UTC)."""
        value = self.string(key, required=False)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            bad_request(f"{self.name(key)} {value!r} is not an ISO-8601 date")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()

    def objects(self, key: str, *, required: bool = False) -> list[Body] | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self._missing(key)
            return None
        if not isinstance(value, list) or (required and not value):
            bad_request(
                f"{self.name(key)} must be a non-empty list"
                if required
                else f"{self.name(key)} must be a list"
            )
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                bad_request(f"{self.name(key)}[{index}] must be an object")
            out.append(Body(item, f"{self.name(key)}[{index}]."))
        return out

    def object(self, key: str) -> Body | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            bad_request(f"{self.name(key)} must be an object")
        return Body(value, f"{self.name(key)}.")
