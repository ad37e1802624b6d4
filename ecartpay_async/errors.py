"""Every failure the SDK raises, in one hierarchy rooted in :class:`EcartPayError`.

::

    EcartPayError
    ├── ConfigurationError           missing keys, bad options: raised at construction
    ├── ClientClosedError            a call on a client after aclose()
    ├── ValidationError              bad input, refused before anything is sent (.field, .reason)
    ├── IdempotencyConflictError     a reference_id already paid with other details
    ├── WebhookSignatureError        a webhook failed verification (.check)
    ├── JournalError                 a batch journal that cannot be used as asked
    │   └── JournalMismatchError     a journal written for another origin, account or input
    ├── BatchAbortedError            a batch stopped by a fatal error or the breaker
    ├── APIConnectionError           no usable answer: connection refused, reset, lost
    │   ├── APITimeoutError          a phase timed out, or the attempt's overall deadline
    │   └── APIProxyError            the proxy refused or failed (.proxy, no credentials)
    ├── APIResponseError             an answer that is not what the API promises
    │   └── ResponseTooLargeError    an answer over max_response_bytes once decoded (.limit)
    └── APIStatusError               the API answered 4xx/5xx (.status_code, .body, ...)
        ├── BadRequestError          400
        ├── AuthenticationError      401, and a token request refused
        ├── PermissionDeniedError    403
        ├── NotFoundError            404
        ├── ConflictError            409
        ├── UnprocessableEntityError 422
        ├── RateLimitError           429 (.retry_after)
        └── InternalServerError      5xx

An error answer is classified by the status it stands for (:func:`declared_status`):
Ecart Pay documents its errors as HTTP 500 with a JSON body saying ``"statusCode": 400``,
so a 5xx whose body declares a ``statusCode`` from 400 to 499 is that refusal
(``status_code``), and ``http_status`` keeps the status the server sent.

Errors carry the request's method and path, the status and the parsed body, the
number of HTTP attempts the call made (``attempts``), and never a key, a token or a
header: they are safe to log and to show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIProxyError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchAbortedError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "EcartPayError",
    "IdempotencyConflictError",
    "InternalServerError",
    "JournalError",
    "JournalMismatchError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "ValidationError",
    "WebhookSignatureError",
]


class EcartPayError(Exception):
    """The root of every error this SDK raises."""

    message: str
    #: The HTTP attempts the API call that raised this made, retries included (0 when
    #: it sent none, or when the error comes from no API call).
    attempts: int = 0

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _shown(value: object) -> str:
    """A value as a person reads it: ``985.50``, not ``Decimal('985.50')``; text quoted."""
    if isinstance(value, (Decimal, int, bool)) or value is None:
        return str(value)
    return repr(value)


class ConfigurationError(EcartPayError):
    """The client cannot be built as asked (a missing key, an unknown environment).
    ``field`` names the argument at fault, when one is (``"base_url"``, ``"public_key"``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ClientClosedError(EcartPayError, RuntimeError):
    """The client was closed (``aclose()``, or its ``async with`` block ended)."""


class ValidationError(EcartPayError, ValueError):
    """Input refused before anything was sent; ``field`` names it, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class IdempotencyConflictError(EcartPayError):
    """A payout with this ``reference_id`` exists with a different recipient or amount.

    The SDK never treats that as success: the same reference_id must always mean the
    same payment. ``existing`` is the payout found; ``differences`` lists the fields
    that disagree as ``(field, requested, found)``; ``compared`` the fields the check
    could compare and ``not_compared`` those the API's answer left out (Ecart Pay's
    payout answers carry no ``email``).
    """

    def __init__(
        self,
        reference_id: str,
        differences: list[tuple[str, object, object]],
        existing: object = None,
        *,
        compared: list[str] | None = None,
        not_compared: list[str] | None = None,
    ) -> None:
        detail = "; ".join(
            f"{f}: requested {_shown(a)}, found {_shown(b)}" for f, a, b in differences
        )
        checked = ""
        if compared is not None:
            checked = f"; compared {', '.join(compared) or 'nothing'}"
            if not_compared:
                checked += f", not in the answer: {', '.join(not_compared)}"
        super().__init__(
            f"reference_id {reference_id!r} was already used for a different payout "
            f"({detail}{checked})"
        )
        self.reference_id = reference_id
        self.differences = differences
        self.existing = existing
        self.compared = compared if compared is not None else [f for f, _, _ in differences]
        self.not_compared = not_compared or []


class WebhookSignatureError(EcartPayError):
    """A webhook delivery failed verification; ``check`` names the check that failed."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


class JournalError(EcartPayError):
    """A batch journal cannot be used: unreadable, or holding other content for a key."""


class JournalMismatchError(JournalError):
    """A journal that belongs to another run: written against another API origin,
    environment or account, or for another input under the same batch name.

    Raised before anything is sent. ``field`` is the first field that changed
    (``origin``, ``environment``, ``account`` or ``input``), ``recorded`` the
    journal's value and ``current`` this run's; ``changes`` lists every changed field
    as ``(field, recorded, current)``.
    """

    def __init__(self, journal: str, changes: list[tuple[str, str, str]]) -> None:
        detail = "; ".join(
            f"{name} {recorded!r} in the journal, {current!r} in this run"
            for name, recorded, current in changes
        )
        advice = (
            "use another --batch name or another journal"
            if changes[0][0].startswith("input")
            else "use a journal of its own (a new file, or another PostgreSQL --schema)"
        )
        super().__init__(
            f"journal {journal} belongs to another run ({detail}); nothing was sent: {advice}"
        )
        self.journal = journal
        self.changes = changes
        self.field, self.recorded, self.current = changes[0]


class BatchAbortedError(EcartPayError):
    """A batch stopped early; ``reason`` says why and ``cause`` is the triggering error."""

    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


class APIError(EcartPayError):
    """An error tied to one HTTP request (``method`` and ``path``, never headers)."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class APIConnectionError(APIError):
    """No usable answer came back: connection refused, reset, or closed mid-answer.

    ``maybe_processed`` is False only when the request provably never left this
    machine (the connection could not be made); otherwise the server may have acted
    on it, which is why a payout is looked up before it is sent again.
    """

    maybe_processed: bool = True


class APITimeoutError(APIConnectionError):
    """The request timed out: a phase (connect, read, write, waiting for a pooled
    connection), or the whole attempt's deadline (``timeout=10``: 10 s from connect
    to the last byte, however slowly the server trickles)."""


class APIProxyError(APIConnectionError):
    """The proxy could not be reached or refused to connect onward: the API never saw
    the request. ``proxy`` is the proxy's URL without its user name or password."""

    maybe_processed = False

    def __init__(self, message: str, *, proxy: str = "", method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path)
        self.proxy = proxy


class APIResponseError(APIError):
    """An answer whose body is not what the API promises (HTML, cut-off JSON, too large)."""

    def __init__(
        self, message: str, *, method: str = "", path: str = "", status_code: int = 0,
        body: object = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status_code = status_code
        self.body = body


class ResponseTooLargeError(APIResponseError):
    """The answer, once decoded, was larger than ``max_response_bytes`` (``limit``).

    Reading stopped at the limit (an endless body or a decompression bomb costs no
    more memory than that). The request was sent, so it may have been processed: a
    payout is looked up before it is sent again.
    """

    maybe_processed = True

    def __init__(
        self, message: str, *, limit: int, method: str = "", path: str = "",
        status_code: int = 0,
    ) -> None:
        super().__init__(message, method=method, path=path, status_code=status_code)
        self.limit = limit


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status.

    ``body`` is the parsed JSON body, or a short excerpt of the text when it was not
    JSON (a proxy's HTML error page); ``message`` is the API's own ``message`` when
    it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        method: str = "",
        path: str = "",
        headers: dict[str, str] | None = None,
        http_status: int | None = None,
    ) -> None:
        sent = "" if http_status in (None, status_code) else f" (HTTP {http_status})"
        super().__init__(
            f"{status_code}{sent} {method} {path}: {message}", method=method, path=path
        )
        self.message = message
        self.status_code = status_code
        #: The status the server sent; differs from ``status_code`` when the body
        #: declared the refusal (see :func:`declared_status`).
        self.http_status = status_code if http_status is None else http_status
        self.body = body
        # Only response headers that carry no secret are kept (see http.py).
        self.headers = headers or {}

    @property
    def request_id(self) -> str | None:
        """The API's id for the request (its ``X-Request-Id`` answer header), if sent."""
        return self.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """400: the API refused the request's content."""


class AuthenticationError(APIStatusError):
    """401: bad keys, or a token the API no longer accepts. Never retried."""


class PermissionDeniedError(APIStatusError):
    """403: the account may not do this."""


class NotFoundError(APIStatusError):
    """404: no such object."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the object's state (or a reused reference)."""


class UnprocessableEntityError(APIStatusError):
    """422: the API understood the request but will not process it."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the API or a proxy in front of it failed."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def declared_status(http_status: int, body: object) -> int:
    """The status an error answer stands for, which its class and meaning follow.

    Ecart Pay's OpenAPI file documents its errors as HTTP 500 with a body such as
    ``{"message": "payouts validation failed: ...", "statusCode": 400}``: a refusal,
    not a server failure. So a 5xx answer whose JSON body (``body``: parsed, or the
    raw bytes) declares an integer ``statusCode`` from 400 to 499 stands for that
    4xx; any other answer stands for its HTTP status (a 4xx is a refusal already).
    """
    if http_status < 500:
        return http_status
    if isinstance(body, (bytes, bytearray)):
        if not body.lstrip().startswith(b"{"):
            return http_status  # not a JSON object: a proxy's page, an empty body
        try:
            body = json.loads(body)
        except ValueError:
            return http_status
    code = body.get("statusCode") if isinstance(body, Mapping) else None
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 499:
        return code
    return http_status


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)
