"""``client.payouts``: create (exactly once), retrieve, list, update, confirm.

Exactly once, keyed on ``reference_id``: a payout's reference_id never changes
across retries. When an attempt fails in a way that may have reached the server
(a timeout, a connection lost after the request was written, a 5xx, a garbled
answer), the next attempt first asks ``GET /api/payouts?reference_id=...``: a payout
found there is the result; none found means it is safe to send again. A rejection
saying the reference is already used resolves the same way. A payout found that is
not the same payment raises :class:`IdempotencyConflictError`.

The rules applied here (what is "the same payment", which failures may have been
processed, what a reuse rejection looks like) live in :mod:`ecartpay_async.rules`.
Batches of payouts are :mod:`ecartpay_async.batch`'s (``client.payouts.batch``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import httpx

from .._convert import format_datetime, structure, unstructure
from .._http import Answer, Attempt, RequestOptions
from .._pause import PauseGate
from .._reprs import safe_repr
from ..errors import (
    APIStatusError,
    NotFoundError,
    ValidationError,
)
from ..models.common import check_text
from ..models.payouts import Page, Payout, PayoutCharge, PayoutItem, PayoutRequest
from ..money import check_amount
from ..rules import conflict, is_reuse_rejection
from ._base import Resource, path_id
from ._pages import check_limit, paginate, parse_page, structure_page

__all__ = ["CONFIRM_REFUSALS", "AsyncPayouts", "SendResult", "is_confirmed", "parse_page"]

logger = logging.getLogger("ecartpay_async")

PAYOUTS = "/api/payouts"
#: How the API may refuse to confirm a payout that is no longer pending (the sandbox
#: answers 400): whether it was confirmed already is then read from the payout.
CONFIRM_REFUSALS = frozenset({400, 409, 422})


@safe_repr
@attrs.frozen
class SendResult:
    """The outcome of :meth:`AsyncPayouts.send`."""

    payout: Payout
    attempts: int
    recovered: bool
    #: Found, not made by this call: the API refused the reference_id as used before
    #: any attempt of this call could have created it (an earlier run paid it).
    existing: bool = False



class AsyncPayouts(Resource):
    """Payouts: money sent from your balance to another Ecart Pay account."""

    @property
    def pause_gate(self) -> PauseGate:
        """The client's pause gate (read its ``stats()`` to see the server's slow-downs)."""
        return self._http.pause_gate

    async def create(
        self,
        *,
        amount: Decimal | int | str,
        currency: str,
        email: str | None = None,
        reference_id: str | None = None,
        require_confirmation: bool = False,
        customer_id: str | None = None,
        payment_method_id: str | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout:
        """Send a payout, exactly once per ``reference_id``; see :class:`PayoutRequest`."""
        request = PayoutRequest(
            amount=amount,
            currency=currency,
            email=email,
            reference_id=reference_id,
            require_confirmation=require_confirmation,
            customer_id=customer_id,
            payment_method_id=payment_method_id,
        )
        result = await self.send(request, max_retries=max_retries, timeout=timeout)
        return result.payout

    async def send(
        self,
        request: PayoutRequest,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> SendResult:
        """Send a prepared :class:`PayoutRequest`; report attempts and lookup recovery."""
        reference_id = request.reference_id

        def payout_of(answer: Answer) -> Payout:
            payout = self._payout(answer)
            error = conflict(request, payout)
            if error is not None:
                raise error
            return payout

        async def look_up() -> Payout | None:
            assert reference_id is not None
            return await self._recover(request, reference_id, timeout)

        options: RequestOptions[Payout] = RequestOptions(
            "POST", PAYOUTS, json=request.to_body(), resend="look_up_first",
            timeout=timeout, max_retries=max_retries, on_attempt=on_attempt,
            # Without a reference_id a payout that may exist cannot be looked up: the
            # loop then sends again only what provably never left.
            look_up=None if reference_id is None else look_up,
            settles=_reused,
            describe=f"POST {PAYOUTS} reference_id={reference_id!r}",
        )
        outcome = await self._http.call(options, payout_of)
        return SendResult(outcome.value, outcome.attempts, outcome.recovered, outcome.existing)

    async def _recover(
        self, request: PayoutRequest, reference_id: str, timeout: float | httpx.Timeout | None
    ) -> Payout | None:
        found = await self.find_by_reference(reference_id, max_retries=0, timeout=timeout)
        if found is not None:
            error = conflict(request, found)
            if error is not None:
                raise error
            logger.info("payout %s recovered by reference_id lookup", reference_id)
        return found

    async def find_by_reference(
        self,
        reference_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout | None:
        """The payout sent under ``reference_id``, or None if there is none."""
        try:
            data = await self._request(
                "GET", PAYOUTS, params={"reference_id": reference_id},
                max_retries=max_retries, timeout=timeout,
            )
        except NotFoundError:
            return None  # some APIs answer an empty filter with 404
        for payout in self._page(data).docs:
            # Match exactly: a server may treat the filter as a search.
            if payout.reference_id == reference_id:
                return payout  # type: ignore[no-any-return]
        return None

    async def retrieve(
        self,
        payout_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout:
        path = f"{PAYOUTS}/{path_id(payout_id, 'payout_id')}"
        data = await self._request("GET", path, max_retries=max_retries, timeout=timeout)
        return self._structure(data, Payout, "GET", path)

    def list(
        self,
        *,
        status: str | None = None,
        reference_id: str | None = None,
        q: str | None = None,
        limit: int = 50,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> AsyncIterator[Payout]:
        """Every payout matching the filters, page after page: ``async for p in ...``."""
        filters = {"status": status, "reference_id": reference_id, "q": q}
        return paginate(self, PAYOUTS, Payout, filters, limit=check_limit(limit),
                        max_retries=max_retries, timeout=timeout)

    def _page(self, data: Any) -> Page:
        return structure_page(self, data, Payout, PAYOUTS)

    async def update(
        self,
        payout_id: str,
        *,
        amount: Decimal | int | str | None = None,
        order_id: str | None = None,
        items: Sequence[PayoutItem | Mapping[str, Any]] | None = None,
        charges: Sequence[PayoutCharge | Mapping[str, Any]] | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout:
        """Change a pending payout's amount, order or itemised detail."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = check_amount(amount, None)
        if order_id is not None:
            body["order_id"] = check_text(order_id, field="order_id")
        if items is not None:
            body["items"] = [unstructure(_as(PayoutItem, item, "items")) for item in items]
        if charges is not None:
            body["charges"] = [unstructure(_as(PayoutCharge, c, "charges")) for c in charges]
        if not body:
            raise ValidationError("update", "give at least one of amount, order_id, items, charges")
        path = f"{PAYOUTS}/{path_id(payout_id, 'payout_id')}"
        data = await self._request("PUT", path, json=body, max_retries=max_retries, timeout=timeout)
        return self._structure(data, Payout, "PUT", path)

    async def confirm(
        self,
        payout_id: str,
        available_at: datetime | None = None,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout:
        """Release a pending payout now, or on ``available_at`` (an aware datetime)."""
        body = None
        if available_at is not None:
            if not isinstance(available_at, datetime) or available_at.tzinfo is None:
                raise ValidationError("available_at", "must be a timezone-aware datetime")
            body = {"available_at": format_datetime(available_at)}
        path = f"{PAYOUTS}/{path_id(payout_id, 'payout_id')}/confirm"

        async def look_up() -> Payout | None:
            # The payout's state says whether an earlier attempt's confirmation took.
            current = await self.retrieve(payout_id, max_retries=0, timeout=timeout)
            return current if is_confirmed(current, available_at) else None

        options: RequestOptions[Payout] = RequestOptions(
            # Confirming twice is harmless: resent as is; read only after a refusal.
            "PUT", path, json=body, resend="may_resend", timeout=timeout,
            max_retries=max_retries, look_up=look_up, settles=_refused_after_an_attempt,
        )
        outcome = await self._http.call(options, self._payout)
        return outcome.value


def _reused(error: APIStatusError, attempt: int) -> bool:
    """A payout refused because its reference_id is taken: look the payout up."""
    return is_reuse_rejection(error)


def _refused_after_an_attempt(error: APIStatusError, attempt: int) -> bool:
    """A confirmation refused after any earlier attempt (even one that seemed to fail
    cleanly) may have been confirmed by it: read the payout before reporting."""
    return attempt > 1 and error.status_code in CONFIRM_REFUSALS


def is_confirmed(payout: Payout, available_at: datetime | None) -> bool:
    """Whether ``payout`` shows a confirmation for ``available_at`` (None: now) took."""
    if available_at is None:
        return not payout.is_pending
    # Scheduled confirmations stay pending; the date is what was set. The API keeps
    # milliseconds, so compare at that precision.
    return payout.available_at is not None and abs(
        (payout.available_at - available_at).total_seconds()
    ) < 0.001


def _as(cls: type[Any], value: Any, field: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return structure(dict(value), cls)
        except ValueError as exc:
            raise ValidationError(field, str(exc)) from None
    kind = type(value).__name__
    raise ValidationError(field, f"expected {cls.__name__} or a mapping, got {kind}")
