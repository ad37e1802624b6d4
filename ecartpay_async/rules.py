"""The rules: what makes two payouts the same payment, and what each failure means.

Everything that decides *whether* to act lives here, once; the modules that act read
it. The request pipeline (:mod:`._http`), the retry policy (:mod:`._retry`), the
payouts resource and the batch engine import these rules and never restate them.

The same payment
================

A ``reference_id`` is an idempotency key: it must always mean the same payment. Two
payouts under one reference_id are the same payment when they agree on every field of
:data:`SAME_PAYMENT`:

* the recipient: ``email`` (case-insensitive, as the API treats addresses), or
  ``customer_id`` + ``payment_method_id`` (exact);
* ``amount`` (exact ``Decimal``, already quantized to the currency's minor unit);
* ``currency``;
* ``require_confirmation``. It belongs: a payout created without it is credited at
  once, one created with it waits for the sender to confirm. Those are different
  instructions for the same money, and a found payout with the other flag cannot be
  turned into this row's payout afterwards; treating it as a success would hide
  that the recipient was paid (or held) differently from what the row asks.

The journal's fingerprint (:func:`fingerprint`), the lookup's conflict check
(:func:`differences`, which raises :class:`~ecartpay_async.IdempotencyConflictError`)
and the batch's pre-flight check against the journal all read this one list. The
conflict check compares only what the API's answer carries (:func:`compared_fields`
says what that was): Ecart Pay documents no ``email`` in a payout answer, so against
the real API a reference_id reused for another recipient with the same amount is
caught by the journal's fingerprint of the row, not by the lookup.

What a failure means
====================

:func:`meaning` answers four questions about any error, reading :data:`FAILURES`
top to bottom (the first row that matches wins):

============================================  =====  =========  =====  =====
failure                                       retry  maybe      fatal  pause
                                                     processed
============================================  =====  =========  =====  =====
the token request could not reach the API     no     no         yes    no
bad input (``ValidationError``)               no     no         no     no
same reference_id, other payment              no     yes        yes    no
the journal cannot be written                 no     yes        yes    no
connection could not be made (or the proxy    yes    no         no     no
  refused it)
connection lost, timeout                      yes    yes        no     no
an answer that is not valid JSON, cannot be   yes    yes        no     no
  decoded, or is over ``max_response_bytes``
401 credentials refused, 403 forbidden        no     no         yes    no
408 request timeout                           yes    yes        no     no
429 too many requests                         yes    no         no     yes
4xx saying the balance is insufficient        no     no         yes    no
any other 4xx                                 no     no         no     no
503 unavailable                               yes    yes        no     yes
any other 5xx                                 yes    yes        no     no
anything else                                 no     yes        no     no
============================================  =====  =========  =====  =====

An error answer's status is the one it stands for
(:func:`~ecartpay_async.errors.declared_status`): Ecart Pay documents its refusals as
HTTP 500 with ``"statusCode": 400`` in the body, and such an answer is a 400 here (the
error keeps ``http_status``), refused, not retried, not congestion.

* **retry**: sending the same request again may succeed (the retry policy retries).
* **maybe processed**: the server may have acted on it, so a payout is looked up by
  its reference_id before it is sent again, and a batch's journal keeps the row
  ``sending``.
* **fatal**: it dooms every other row of a batch, which stops sending.
* **pause**: with a ``Retry-After``, every request of the client waits (the one
  pause gate, :mod:`._pause`), not just the one that was told.

A batch also reads the answers as a congestion signal (:func:`is_congestion`): a
429, a 5xx or a failed connection; a streak of them halves its sends in flight.

The token request retries connection failures like any request; once its retries
are spent the address is unreachable for every row, hence fatal. A reuse rejection
(:func:`is_reuse_rejection`) is resolved by a lookup before it counts as a refusal.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable
from typing import Final

import attrs

from ._reprs import safe_repr
from .errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    IdempotencyConflictError,
    JournalError,
    ValidationError,
)
from .models.common import PayoutStatus, parse_status
from .models.payouts import Payout, PayoutRequest

__all__ = [
    "FAILURES",
    "SAME_PAYMENT",
    "TOKEN_PATH",
    "Meaning",
    "PayoutFate",
    "compared_fields",
    "conflict",
    "differences",
    "fate_of",
    "fingerprint",
    "is_congestion",
    "is_fatal",
    "is_retryable",
    "is_reuse_rejection",
    "may_have_been_processed",
    "meaning",
    "retry_token_request",
    "status_meaning",
]

TOKEN_PATH: Final = "/api/authorizations/token"  # noqa: S105 (a path, not a password)

# -- the same payment ------------------------------------------------------------------


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _exact(value: object) -> object:
    return value


#: The fields that make a payment, each with how it is compared. The order is the
#: fingerprint's: changing it would make every journal's rows look changed.
SAME_PAYMENT: Final[tuple[tuple[str, Callable[[object], object]], ...]] = (
    ("email", _casefold),
    ("customer_id", _exact),
    ("payment_method_id", _exact),
    ("amount", _exact),
    ("currency", _upper),
    ("require_confirmation", _exact),
)


def fingerprint(request: PayoutRequest) -> str:
    """A digest of the payment a request makes (:data:`SAME_PAYMENT`): the journal keeps
    it instead of the content, to refuse a reference_id reused for another payment."""
    parts = []
    for name, normalize in SAME_PAYMENT:
        value = normalize(getattr(request, name))
        if value is None:
            parts.append("")
        elif isinstance(value, bool):
            parts.append("1" if value else "0")
        else:
            parts.append(str(value))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def differences(request: PayoutRequest, payout: Payout) -> list[tuple[str, object, object]]:
    """Fields of :data:`SAME_PAYMENT` in which a found payout disagrees with the request,
    as ``(field, requested, found)``. A field the API did not report is not compared."""
    diffs: list[tuple[str, object, object]] = []
    for name, normalize in SAME_PAYMENT:
        wanted = getattr(request, name)
        if wanted is None:
            continue
        found = getattr(payout, name, None)
        # Equal values normalize alike: only unequal ones need normalizing.
        if found is None or found == wanted:
            continue
        if normalize(wanted) != normalize(found):
            diffs.append((name, wanted, found))
    return diffs


def compared_fields(request: PayoutRequest, payout: Payout) -> tuple[list[str], list[str]]:
    """Which fields of :data:`SAME_PAYMENT` the conflict check could compare for a found
    payout, and which the request sets but the answer leaves out (``email``: no payout
    answer in Ecart Pay's OpenAPI file carries it). What the answer leaves out, the
    batch journal's :func:`fingerprint` of the row still guards: a journaled
    reference_id brought back with another recipient is refused before any request."""
    compared: list[str] = []
    missing: list[str] = []
    for name, _ in SAME_PAYMENT:
        if getattr(request, name) is None:
            continue
        (compared if getattr(payout, name, None) is not None else missing).append(name)
    return compared, missing


def conflict(request: PayoutRequest, payout: Payout) -> IdempotencyConflictError | None:
    """The error for a found payout that is not the request's payment, or None; it
    names the fields that differ and those it could compare."""
    diffs = differences(request, payout)
    if not diffs or request.reference_id is None:
        return None
    compared, missing = compared_fields(request, payout)
    return IdempotencyConflictError(
        request.reference_id, diffs, existing=payout, compared=compared, not_compared=missing
    )


# How a server may word "this reference_id was used already".
_REUSE_WORDS: Final = re.compile(r"reference|duplicate|already|exist|used|idempot|unique", re.I)


def is_reuse_rejection(error: BaseException) -> bool:
    """Whether the API refused a create because its reference_id exists: resolve by lookup."""
    if not isinstance(error, APIStatusError):
        return False
    if error.status_code == 409:
        return True
    return error.status_code in (400, 422) and bool(_REUSE_WORDS.search(error.message))


class PayoutFate(enum.Enum):
    """Where a payout the API reports stands: credited, refused, or not final yet."""

    PAID = "paid"
    FAILED = "failed"
    WAITING = "waiting"

    # A member is its only instance: hashed by identity, in C (Enum's own hash is a
    # Python call, and a batch looks a fate up once per row).
    __hash__ = object.__hash__


_FAILED_STATUSES: Final = frozenset({
    PayoutStatus.FAILED, PayoutStatus.CANCELED, PayoutStatus.CANCELLED,
    PayoutStatus.REJECTED, PayoutStatus.REFUNDED,
})


# Read once per row: a module global reads ~15x faster than an Enum member (3.11).
_STATUS_PAID: Final = PayoutStatus.PAID
_FATE_PAID: Final = PayoutFate.PAID


def fate_of(payout: Payout) -> PayoutFate:
    """A payout's fate from its status; a status the SDK does not know is not final."""
    status = payout.status
    if status is _STATUS_PAID:
        return _FATE_PAID  # the usual answer
    if not isinstance(status, PayoutStatus):
        status = parse_status(str(status).lower())
    if status == PayoutStatus.PAID:
        return PayoutFate.PAID
    if status in _FAILED_STATUSES:
        return PayoutFate.FAILED
    return PayoutFate.WAITING


# -- what a failure means ----------------------------------------------------------------


@safe_repr
@attrs.frozen(slots=True)
class Meaning:
    """What one failure means; see the module docstring's table."""

    retry: bool
    maybe_processed: bool
    fatal: bool = False
    pause: bool = False

    @property
    def refused(self) -> bool:
        """Turned down for good, having created nothing (a batch records it ``failed``)."""
        return not self.retry and not self.maybe_processed


_RETRY_UNSURE: Final = Meaning(retry=True, maybe_processed=True)
_REFUSED: Final = Meaning(retry=False, maybe_processed=False)
_REFUSED_FATAL: Final = Meaning(retry=False, maybe_processed=False, fatal=True)
_UNSURE_FATAL: Final = Meaning(retry=False, maybe_processed=True, fatal=True)

_BALANCE_WORDS: Final = re.compile(r"balance|insufficient|fondos|saldo", re.I)


def status_meaning(status: int, message: str = "") -> Meaning:
    """What an HTTP error status means (``message`` is the API's, for the balance rule)."""
    if status in (401, 403):
        return _REFUSED_FATAL
    if status == 408:
        return _RETRY_UNSURE
    if status == 429:
        return Meaning(retry=True, maybe_processed=False, pause=True)
    if 400 <= status < 500:
        return _REFUSED_FATAL if _BALANCE_WORDS.search(message) else _REFUSED
    if status == 503:
        return Meaning(retry=True, maybe_processed=True, pause=True)
    if status >= 500:
        return _RETRY_UNSURE
    return _REFUSED  # not an error status: nothing to retry


def _token_unreachable(error: BaseException) -> bool:
    return isinstance(error, APIConnectionError) and error.path == TOKEN_PATH


def _connection(error: BaseException) -> Meaning:
    assert isinstance(error, APIConnectionError)
    return Meaning(retry=True, maybe_processed=error.maybe_processed)


def _status(error: BaseException) -> Meaning:
    assert isinstance(error, APIStatusError)
    return status_meaning(error.status_code, error.message)


#: The rows of the table, in order: ``(which failures, what they mean)``.
FAILURES: Final[tuple[tuple[Callable[[BaseException], bool],
                            Callable[[BaseException], Meaning]], ...]] = (
    (_token_unreachable, lambda _: _REFUSED_FATAL),
    (lambda e: isinstance(e, ValidationError), lambda _: _REFUSED),
    (lambda e: isinstance(e, IdempotencyConflictError), lambda _: _UNSURE_FATAL),
    (lambda e: isinstance(e, JournalError), lambda _: _UNSURE_FATAL),
    (lambda e: isinstance(e, APIConnectionError), _connection),
    (lambda e: isinstance(e, APIResponseError), lambda _: _RETRY_UNSURE),
    (lambda e: isinstance(e, APIStatusError), _status),
)

_UNKNOWN: Final = Meaning(retry=False, maybe_processed=True)


def meaning(error: BaseException) -> Meaning:
    """What ``error`` means: the first row of :data:`FAILURES` that matches it."""
    for matches, means in FAILURES:
        if matches(error):
            return means(error)
    return _UNKNOWN


def is_retryable(error: BaseException) -> bool:
    """Whether sending the same request again may succeed."""
    return meaning(error).retry


def may_have_been_processed(error: BaseException) -> bool:
    """Whether the server may have acted on a request that failed this way."""
    return meaning(error).maybe_processed


def is_fatal(error: BaseException) -> bool:
    """Whether a failure dooms every row of a batch, not just its own."""
    return meaning(error).fatal


def is_congestion(status: int | None, error: BaseException | None) -> bool:
    """Whether one attempt's answer shows the server struggling (a batch backs off):
    a 429, a 5xx, or no answer because the connection failed."""
    if status is None:
        return isinstance(error, APIConnectionError)
    return status == 429 or status >= 500


def retry_token_request(error: BaseException) -> bool:
    """The token request's own retries: connection failures are retried like any other;
    only once those retries are spent is the address unreachable (fatal, above)."""
    return isinstance(error, APIConnectionError) or is_retryable(error)
