"""Token auth: one cached token per key pair, refreshed ahead of expiry, single-flight.

Ecart Pay trades the key pair (HTTP Basic) for a JWT that lives an hour. The token's
``exp`` is read without verifying the signature (that is the server's job; no JWT
library needed). Its lifetime is measured as ``exp - iat`` and counted from the
moment it arrived, so a skewed local clock does not matter. When ``exp`` cannot be
read, ``fallback_ttl`` is assumed.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio

from ._reprs import safe_repr

__all__ = ["Secret", "TokenCache", "basic_credentials", "token_lifetime"]


class Secret:
    """A string that never shows itself in a repr, a str() or a log line.

    Keys, the Basic credentials and the token travel through the pipeline as
    ``Secret`` objects, never as plain ``str`` locals: error trackers that record
    frame locals (Sentry's ``include_local_variables``) then see only the redacted
    repr. :meth:`get` is called at the one moment the header is written.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:
        raise TypeError("secrets are not picklable")


def basic_credentials(public_key: Secret, private_key: Secret) -> Secret:
    """The ``Authorization`` header value for the token request, kept secret."""
    return Secret(
        "Basic " + base64.b64encode(f"{public_key.get()}:{private_key.get()}".encode()).decode()
    )


def token_claim(token: Secret, name: str) -> str | None:
    """One claim of the JWT (``account_id``: the account the keys belong to), as text;
    None if the token is not a JWT or lacks it. The token itself never leaves."""
    try:
        payload_b64 = token.get().split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (IndexError, TypeError, ValueError, binascii.Error):
        return None
    value = payload.get(name) if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


def token_lifetime(token: str, *, now: float) -> float | None:
    """Seconds the JWT has left, from its ``exp`` (and ``iat`` when present); None if unreadable."""
    try:
        payload_b64 = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
        exp = float(payload["exp"])
        iat = payload.get("iat")
        return exp - float(iat) if iat is not None else exp - now
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return None


@safe_repr
class TokenCache:
    """Holds the current token and fetches a new one when it is missing or near expiry.

    ``fetch`` performs the token request and returns the token. Concurrent callers
    that find no valid token share one fetch (single-flight): a thousand tasks
    starting at once cause one token request.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[Secret]],
        *,
        refresh_margin: float = 60.0,
        fallback_ttl: float = 50 * 60,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._refresh_margin = refresh_margin
        self._fallback_ttl = fallback_ttl
        self._clock = clock
        self._wall_clock = wall_clock
        self._token: Secret | None = None
        self._refresh_at = 0.0
        self._lock = anyio.Lock()
        self.fetches = 0
        # The last failed fetch, shared with the callers that queued behind it.
        self._failures = 0
        self._error: BaseException | None = None
        self._error_tb: TracebackType | None = None

    def __repr__(self) -> str:
        return f"TokenCache(has_token={self._token is not None})"

    def valid(self) -> Secret | None:
        """The current token if it is not due for a refresh, else None (no await:
        the usual case of every request; :meth:`get` fetches when this is None)."""
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        return None

    async def get(self) -> Secret:
        """A valid token, fetching one only when needed (the header's value, kept secret)."""
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        failures = self._failures
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            token = self._token
            if token is not None and self._clock() < self._refresh_at:
                return token
            if self._failures != failures and self._error is not None:
                # The fetch this task waited for failed (bad keys, API down): share its
                # error rather than sending one more token request per waiting task.
                # (As asyncio.Future does, with the original traceback each time.)
                raise self._error.with_traceback(self._error_tb)
            try:
                value = await self._fetch()
            except Exception as exc:
                self._failures += 1
                self._error, self._error_tb = exc, exc.__traceback__
                raise
            self._error = self._error_tb = None
            self.fetches += 1
            return self._store(value)

    def _store(self, value: Secret) -> Secret:
        lifetime = token_lifetime(value.get(), now=self._wall_clock())
        if lifetime is None or lifetime <= 0:
            lifetime = self._fallback_ttl
        # Refresh ahead: a minute early for hour-long tokens, 10 % early for short ones.
        margin = min(self._refresh_margin, lifetime * 0.1)
        self._token = value
        self._refresh_at = self._clock() + lifetime - margin
        return value

    def invalidate(self, token: Secret) -> None:
        """Drop ``token`` after the API refused it, unless it was already replaced."""
        if self._token == token:
            self._token = None
