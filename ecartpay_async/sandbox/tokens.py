"""HS256 JSON Web Tokens with the standard library (the sandbox signs its own)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from . import wire

__all__ = ["InvalidToken", "decode", "encode"]

_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidToken(Exception):
    """Malformed, or signed with another key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: str, key: bytes) -> str:
    return _b64(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())


def encode(claims: dict[str, Any], key: bytes) -> str:
    signing_input = f"{_b64(wire.dumps(_HEADER))}.{_b64(wire.dumps(claims))}"
    return f"{signing_input}.{_sign(signing_input, key)}"


def decode(token: str, key: bytes) -> dict[str, Any]:
    """The claims of a token this key signed; raises :class:`InvalidToken` otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    header, payload, signature = parts
    try:
        expected = _sign(f"{header}.{payload}", key)
    except UnicodeEncodeError:
        raise InvalidToken("not a JWT") from None
    if not hmac.compare_digest(expected, signature):
        raise InvalidToken("bad signature")
    try:
        if wire.loads(_unb64(header)) != _HEADER:
            raise InvalidToken("unexpected header")
        claims = wire.loads(_unb64(payload))
    except ValueError:
        raise InvalidToken("undecodable") from None
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    return claims
