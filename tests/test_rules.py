"""The rules: one definition of "the same payment", one table of what failures mean."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from ecartpay_async import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    IdempotencyConflictError,
    JournalError,
    Payout,
    PayoutRequest,
    ValidationError,
)
from ecartpay_async.rules import (
    SAME_PAYMENT,
    TOKEN_PATH,
    Meaning,
    PayoutFate,
    differences,
    fate_of,
    fingerprint,
    is_congestion,
    is_reuse_rejection,
    meaning,
    retry_token_request,
)

REQUEST = PayoutRequest(email="Ana@Example.com", reference_id="r-1", amount="12.50",
                        currency="MXN", require_confirmation=True)


def _payout(**changes: object) -> Payout:
    fields: dict[str, object] = {
        "id": "po_1", "status": "pending", "amount": Decimal("12.5"), "currency": "mxn",
        "reference_id": "r-1", "email": "ana@example.com", "require_confirmation": True,
    }
    fields.update(changes)
    return Payout(**fields)  # type: ignore[arg-type]


def test_the_same_payment_in_other_spellings_is_the_same() -> None:
    assert differences(REQUEST, _payout()) == []
    same = PayoutRequest(email="ana@example.COM", reference_id="r-1", amount=Decimal("12.5"),
                         currency="mxn", require_confirmation=True)
    assert fingerprint(same) == fingerprint(REQUEST)


@pytest.mark.parametrize(
    ("field", "other"),
    [("email", "beto@example.com"), ("amount", "12.51"), ("currency", "USD"),
     ("require_confirmation", False)],
)
def test_each_field_of_the_same_payment_counts_in_both_checks(field: str, other: object) -> None:
    """The journal's fingerprint and the lookup's check read one list: they agree."""
    assert field in {name for name, _ in SAME_PAYMENT}
    changed = PayoutRequest(**{**attrs.asdict(REQUEST), field: other})  # type: ignore[arg-type]
    assert fingerprint(changed) != fingerprint(REQUEST)
    found = _payout(**{field: Decimal(str(other)) if field == "amount" else other})
    assert [d[0] for d in differences(REQUEST, found)] == [field]


def test_fields_the_api_did_not_report_are_not_compared() -> None:
    assert differences(REQUEST, _payout(email=None, require_confirmation=None)) == []


def test_the_fingerprint_is_stable() -> None:
    # Journals on disk hold these digests: the rule must not drift under them.
    assert fingerprint(REQUEST) == "1b26c57f7d231b816c5517267dc1b2ea"


def _status(code: int, message: str = "no") -> APIStatusError:
    return APIStatusError(message, status_code=code, method="POST", path="/api/payouts")


def _connection(*, maybe_processed: bool, path: str = "/api/payouts") -> APIConnectionError:
    error = APIConnectionError("x", method="POST", path=path)
    error.maybe_processed = maybe_processed
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_connection(maybe_processed=False, path=TOKEN_PATH), Meaning(False, False, True)),
        (ValidationError("email", "bad"), Meaning(False, False)),
        (IdempotencyConflictError("r", []), Meaning(False, True, True)),
        (JournalError("disk full"), Meaning(False, True, True)),
        (_connection(maybe_processed=False), Meaning(True, False)),
        (_connection(maybe_processed=True), Meaning(True, True)),
        (APITimeoutError("slow", method="POST", path="/api/payouts"), Meaning(True, True)),
        (APIResponseError("garbled"), Meaning(True, True)),
        (_status(401), Meaning(False, False, True)),
        (_status(403), Meaning(False, False, True)),
        (_status(408), Meaning(True, True)),
        (_status(429), Meaning(True, False, pause=True)),
        (_status(400, "Insufficient balance"), Meaning(False, False, True)),
        (_status(422, "saldo insuficiente"), Meaning(False, False, True)),
        (_status(400), Meaning(False, False)),
        (_status(404), Meaning(False, False)),
        (_status(503), Meaning(True, True, pause=True)),
        (_status(500), Meaning(True, True)),
        (_status(502), Meaning(True, True)),
        (RuntimeError("who knows"), Meaning(False, True)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else "",
)
def test_the_table(error: BaseException, expected: Meaning) -> None:
    assert meaning(error) == expected


def test_refused_means_final_and_nothing_created() -> None:
    assert meaning(_status(400)).refused
    assert meaning(_connection(maybe_processed=False, path=TOKEN_PATH)).refused
    assert not meaning(_status(429)).refused  # to be tried again
    assert not meaning(_status(500)).refused  # may have been created


def test_the_token_request_retries_connection_failures_before_they_are_fatal() -> None:
    unreachable = _connection(maybe_processed=False, path=TOKEN_PATH)
    assert retry_token_request(unreachable)
    assert not meaning(unreachable).retry
    assert not retry_token_request(_status(401))


def test_reuse_rejections() -> None:
    assert is_reuse_rejection(_status(409))
    assert is_reuse_rejection(_status(400, "reference_id has already been used"))
    assert not is_reuse_rejection(_status(400, "amount too small"))
    assert not is_reuse_rejection(_connection(maybe_processed=True))


@pytest.mark.parametrize(
    ("status", "fate"),
    [("paid", PayoutFate.PAID), ("PAID", PayoutFate.PAID), ("pending", PayoutFate.WAITING),
     ("failed", PayoutFate.FAILED), ("cancelled", PayoutFate.FAILED),
     ("in_review", PayoutFate.WAITING)],
)
def test_the_fate_of_a_payout(status: str, fate: PayoutFate) -> None:
    assert fate_of(_payout(status=status)) is fate


def test_congestion_signals() -> None:
    assert is_congestion(429, None)
    assert is_congestion(503, None)
    assert is_congestion(None, _connection(maybe_processed=False))
    assert not is_congestion(200, None)
    assert not is_congestion(400, None)
    assert not is_congestion(None, None)
