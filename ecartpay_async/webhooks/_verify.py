"""Webhook verification: is this delivery from Ecart Pay, recent, and intact?

Ecart Pay signs each delivery with the account's webhook secret::

    x-pay-timestamp:  1700000000000                 (milliseconds since the epoch)
    x-pay-webhook-id: wh_1
    x-pay-signature:  SHA256=<hex HMAC-SHA256(secret, "{timestamp}.{webhook_id}.{data}")>

where ``data`` is ``JSON.stringify`` of the body's ``data`` member (compact, numbers as
JavaScript writes them: ``1000``, ``962.18``; non-ASCII text kept as is). To match
what the sender signed byte for byte, the signed text is rebuilt from the raw body:
first the exact text of the ``data`` value as it appears there, then the
``JSON.stringify`` re-serialization of the decoded value (for a body that was
re-indented or re-escaped on the way). Each candidate is compared in constant time.

Nothing costly happens before the signature matches: the body is read with every
number kept as its text (:func:`~ecartpay_async._json.loads_raw`, linear time), so a
stranger's ``{"data":{"amount":1e1000000}}`` is refused as fast as any other forgery.
Only an authentic body has its numbers converted (exact Decimals) and is typed.

Note that the signature covers ``data`` but not ``event``: a receiver should act on
the verified data (and its ids), and treat ``webhook_id`` as the delivery's
idempotency key, since Ecart Pay retries deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from .. import _json
from ..errors import ValidationError, WebhookSignatureError
from ..models.webhooks import WebhookEvent, structure_event_data

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOK_ID_HEADER",
    "WebhookEvent",
    "verify_webhook",
]

TIMESTAMP_HEADER: Final = "x-pay-timestamp"
WEBHOOK_ID_HEADER: Final = "x-pay-webhook-id"
SIGNATURE_HEADER: Final = "x-pay-signature"

_PREFIX: Final = "sha256="
_HEX_DIGEST: Final = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,16}")
_WHITESPACE: Final = (" ", "\t", "\n", "\r")


def _rejected(check: str, message: str) -> WebhookSignatureError:
    return WebhookSignatureError(check, f"webhook rejected ({check}): {message}")


_DECODER: Final = _json.raw_decoder()
#: Timestamps in seconds have 10 digits until 2286; in milliseconds, 13.
_SECONDS_DIGITS: Final = 11


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a delivery and return its :class:`WebhookEvent`.

    ``body`` is the request body exactly as received (bytes, before any parsing);
    ``headers`` any mapping of its headers (names are matched case-insensitively);
    ``secret`` the account's webhook secret. The timestamp must lie within
    ``tolerance`` seconds of ``now`` (default: the current time) in either direction.

    Any failure raises :class:`~ecartpay_async.errors.WebhookSignatureError` whose
    ``check`` names it: ``missing_header``, ``bad_format`` (a header that cannot be
    read), ``body`` (not a JSON object with ``event`` and ``data``), ``signature``,
    ``timestamp`` (an authentic delivery outside the tolerance: a replay, a
    skewed clock, or a time in seconds instead of milliseconds), or ``unicode`` (an
    authentic body holding half of a UTF-16 surrogate pair). Messages never contain
    the secret, any signature or the body.
    """
    if not isinstance(secret, str) or not secret:
        raise ValidationError("secret", "must be the non-empty webhook secret")
    if tolerance < 0:
        raise ValidationError("tolerance", f"must be at least 0 seconds, got {tolerance}")
    timestamp_text, webhook_id, digest = _read_headers(headers)
    event, data, data_text = _read_body(body)

    key = secret.encode("utf-8")
    prefix = f"{timestamp_text}.{webhook_id}.".encode()
    try:
        rebuilt = _json.stringify(data)
    except RecursionError:
        raise _rejected("body", "the body is nested too deeply") from None
    matched = False
    for text in dict.fromkeys((data_text, rebuilt)):
        # Both texts encode: the body was strict UTF-8, and stringify escapes a lone
        # surrogate the body held as \ud800 the way JavaScript does.
        signed = prefix + text.encode("utf-8")
        expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected, digest)
    if not matched:
        raise _rejected("signature", "x-pay-signature does not match the body and headers")

    sent_ms = int(timestamp_text)
    current = time.time() if now is None else now
    if abs(current - sent_ms / 1000) > tolerance:
        if len(timestamp_text) < _SECONDS_DIGITS and abs(current - sent_ms) <= tolerance:
            raise _rejected("timestamp", f"x-pay-timestamp {timestamp_text} is in seconds; "
                                         "Ecart Pay sends milliseconds since the epoch")
        raise _rejected("timestamp", f"x-pay-timestamp is more than {tolerance} s away from now")
    sent = datetime.fromtimestamp(sent_ms // 1000, timezone.utc) + timedelta(
        milliseconds=sent_ms % 1000
    )
    # Authentic: now the numbers may cost what they cost, and the text is checked.
    try:
        data = _json.exact_numbers(data)
    except (ValueError, ArithmeticError) as exc:
        raise _rejected("body", f"a number in data cannot be read ({exc})") from None
    if _holds_lone_surrogate(data) or _json.has_lone_surrogate(event):
        raise _rejected("unicode", "the body holds a lone UTF-16 surrogate (\\ud800-\\udfff), "
                                   "text no UTF-8 can carry")
    return WebhookEvent(
        event=event,
        id=webhook_id,
        timestamp=sent,
        data=structure_event_data(event, data),
        raw={"event": event, "data": data},
    )


def _read_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """The timestamp, webhook id and lower-case hex digest, each checked for form."""
    lowered = {str(name).lower(): value for name, value in headers.items()}
    values = []
    for name in (TIMESTAMP_HEADER, WEBHOOK_ID_HEADER, SIGNATURE_HEADER):
        value = lowered.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _rejected("missing_header", f"the {name} header is missing")
        values.append(value.strip())
    timestamp, webhook_id, signature = values
    if not _TIMESTAMP.fullmatch(timestamp):
        raise _rejected("bad_format", f"{TIMESTAMP_HEADER} must be milliseconds since the epoch")
    if signature[: len(_PREFIX)].lower() != _PREFIX:
        raise _rejected("bad_format", f"{SIGNATURE_HEADER} must start with 'SHA256='")
    digest = signature[len(_PREFIX) :]
    if not _HEX_DIGEST.fullmatch(digest):
        raise _rejected("bad_format", f"{SIGNATURE_HEADER} must carry a hex SHA-256 digest")
    return timestamp, webhook_id, digest.lower()


def _read_body(body: bytes) -> tuple[str, Any, str]:
    """The body's ``event``, decoded ``data``, and the exact text ``data`` had in it."""
    try:
        members = _members(bytes(body).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # "from None": the decoder's error holds the whole body; it adds nothing here.
        raise _rejected("body", f"the body is not a JSON object ({exc})") from None
    event = members.get("event")
    if event is None or not isinstance(event[0], str):
        raise _rejected("body", "the body has no 'event' name")
    if "data" not in members:
        raise _rejected("body", "the body has no 'data' member")
    data, data_text = members["data"]
    return event[0], data, data_text


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _json.has_lone_surrogate(value)
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


def _skip(text: str, pos: int) -> int:
    while text[pos : pos + 1] in _WHITESPACE:
        pos += 1
    return pos


def _members(text: str) -> dict[str, tuple[Any, str]]:
    """Each member of the top-level object: its decoded value and its exact text.

    A duplicated member is refused: the signature could then cover one ``data`` while
    a JSON parser reads the other.
    """
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        raise ValueError("expected an object")
    pos = _skip(text, pos + 1)
    members: dict[str, tuple[Any, str]] = {}
    if text[pos : pos + 1] == "}":
        return _end(text, pos + 1, members)
    while True:
        if text[pos : pos + 1] != '"':
            raise ValueError(f"expected a member name at character {pos}")
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos : pos + 1] != ":":
            raise ValueError(f"expected ':' at character {pos}")
        start = _skip(text, pos + 1)
        value, end = _DECODER.raw_decode(text, start)
        if name in members:
            raise ValueError(f"duplicate member {name!r}")
        members[name] = (value, text[start:end])
        pos = _skip(text, end)
        separator = text[pos : pos + 1]
        if separator == "}":
            return _end(text, pos + 1, members)
        if separator != ",":
            raise ValueError(f"expected ',' or '}}' at character {pos}")
        pos = _skip(text, pos + 1)


def _end(text: str, pos: int, members: dict[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    if _skip(text, pos) != len(text):
        raise ValueError("extra data after the object")
    return members
