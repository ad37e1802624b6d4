"""The per-row policy of a batch: one row, from the journal's claim to its outcome.

For each row, :meth:`RowPolicy.process`:

1. asks the journal to claim it (``sending``, committed before anything goes out), or
   learns that it must not be sent: done by an earlier run (``skipped``; so is a row
   whose payout the lookup or the API's refusal of its reference_id shows an earlier
   run made), a duplicate
   in this run (``failed``), or another payment under the same reference_id (fatal);
   a row the batch's claim feeder claimed already (a journal several workers share)
   comes with its claim;
2. within the concurrency limit, after any pause the server asked for and the rate
   limit, looks the payout up first if the journal saw the row go out before, else
   sends it (the send itself looks up after an ambiguous failure);
3. records the result in the journal, then counts it in the report and the breaker.

What a failure means (fatal for the batch? refused, or maybe created?) is read from
:mod:`ecartpay_async.rules`; the engine (:mod:`.engine`) only moves rows and outcomes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final, Protocol

import anyio
import attrs
import httpx

from .._http import Attempt
from .._pause import PauseGate
from .._reprs import safe_repr
from ..errors import (
    BatchAbortedError,
    JournalError,
    ValidationError,
)
from ..models.common import parse_status
from ..models.payouts import Payout, PayoutRequest
from ..rules import PayoutFate, conflict, fate_of, fingerprint, is_congestion, meaning
from .journal import Claim, Journal, JournalEntry, JournalState
from .limits import AdaptiveLimit, Breaker, RateLimiter
from .outcome import Outcome, OutcomeStatus
from .report import ReportBuilder, describe_error

__all__ = ["PayoutSender", "RowPolicy", "StopSignal"]

logger = logging.getLogger("ecartpay_async.batch")

#: A row's outcome and journal state, by the fate of its payout.
_BY_FATE: Final[dict[PayoutFate, tuple[OutcomeStatus, JournalState]]] = {
    PayoutFate.PAID: (OutcomeStatus.PAID, JournalState.PAID),
    PayoutFate.FAILED: (OutcomeStatus.FAILED, JournalState.FAILED),
    PayoutFate.WAITING: (OutcomeStatus.PENDING, JournalState.PENDING_CONFIRMATION),
}
# Read per row: a module global reads ~15x faster than an Enum member (3.11).
_OUTCOME_FAILED: Final = OutcomeStatus.FAILED


class _SendResult(Protocol):
    @property
    def payout(self) -> Payout: ...

    @property
    def attempts(self) -> int: ...

    @property
    def recovered(self) -> bool: ...

    # Optional: ``existing``, the payout was made before this send (see _existing).


class PayoutSender(Protocol):
    """What a batch needs from ``client.payouts`` (tests pass fakes)."""

    @property
    def pause_gate(self) -> PauseGate: ...

    async def send(
        self,
        request: PayoutRequest,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> _SendResult: ...

    async def find_by_reference(
        self,
        reference_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout | None: ...


class StopSignal:
    """Why a batch sends nothing new, once it does not (the first reason wins)."""

    def __init__(self) -> None:
        #: Whether the batch stopped (read per row: an attribute, not a call).
        self.stopped = False
        self.reason: str | None = None
        self.error: BaseException | None = None

    def __call__(self, reason: str, error: BaseException | None = None) -> None:
        if self.reason is None:
            self.stopped = True
            self.reason = reason
            self.error = error
            logger.warning("batch stopping: %s", reason)


class RowPolicy:
    """Processes rows one at a time per worker; see the module docstring."""

    def __init__(
        self,
        payouts: PayoutSender,
        journal: Journal | None,
        *,
        run_id: str,
        stop: StopSignal,
        report: ReportBuilder,
        limit: AdaptiveLimit,
        adaptive: bool,
        rate: RateLimiter | None,
        breaker: Breaker | None,
        max_retries: int | None,
        timeout: float | httpx.Timeout | None,
        journal_name: str,
    ) -> None:
        self._payouts = payouts
        self._gate = payouts.pause_gate
        self._journal = journal
        self._run_id = run_id
        self._stop = stop
        self._report = report
        self._limit = limit
        self._observe = self._on_attempt if adaptive else None
        self._rate = rate
        self._breaker = breaker
        self._max_retries = max_retries
        self._timeout = timeout
        self._journal_name = journal_name
        # With a journal, a row also waits for its marks to be committed, before and
        # after its request: the batch runs more workers than sends, and each send
        # takes one of `concurrency` slots (see `Batch._workers`).
        self._slots = journal is not None
        # With a journal several workers share, the sends in flight, cancelled if this
        # worker's leases may lapse (lease_lost).
        self._leased = journal is not None and journal.shared
        self._in_flight: set[anyio.CancelScope] = set()
        self._lease_error: JournalError | None = None

    async def process(
        self, row: int, request: PayoutRequest, claim: Claim | None = None
    ) -> Outcome:
        """One row, to its outcome. ``claim``: the row was claimed for this worker
        already (granted), so the journal is not asked again."""
        reference_id = request.reference_id
        assert reference_id is not None
        if self._stop.stopped:
            if claim is not None:  # claimed, never sent: put the mark back
                await self._put_back(reference_id, claim.entry)
            return self.not_attempted(row, request)
        prior: JournalEntry | None = None
        journal = self._journal
        if claim is not None:
            prior = claim.entry
        elif journal is not None:
            digest = fingerprint(request)
            try:
                prior = await journal.begin(reference_id, digest, self._run_id)
            except JournalError as exc:
                self._stop(f"the journal failed: {exc}", exc)
                return self.not_attempted(row, request)
            if prior is not None:
                early = self._check_prior(row, request, prior, digest)
                if early is not None:
                    return early
        if self._slots or self._limit.throttled:
            async with self._limit.limiter:
                sent = await self._attempt(request, prior)
        elif self._rate is None and not self._leased:
            # The workers themselves are the limit and nothing was waited for since
            # the stop check above: straight to the send (one coroutine less per row).
            sent = await self._send(request, prior)
        else:  # no slot to take
            sent = await self._attempt(request, prior)
        if journal is None and type(sent) is _Sent:
            return self._succeeded(row, request, sent)  # nothing to record first
        return await self._conclude(row, request, prior, sent)

    async def _attempt(
        self, request: PayoutRequest, prior: JournalEntry | None
    ) -> _Sent | _Failed | None:
        """The send once the row's turn came; None if the batch stopped meanwhile."""
        if self._rate is not None:
            # Wait out a pause first, so that the rate limit does not bank its slots
            # and burst when it ends (the request pipeline waits at the gate anyway).
            await self._gate.wait(anyio.sleep)
            await self._rate.acquire()
        if self._stop.stopped:  # while this row waited for its turn
            return None
        if self._leased:
            return await self._send_leased(request, prior)
        return await self._send(request, prior)

    async def _conclude(
        self,
        row: int,
        request: PayoutRequest,
        prior: JournalEntry | None,
        sent: _Sent | _Failed | None,
    ) -> Outcome:
        """Record the row's result in the journal, then count and return its outcome."""
        reference_id = request.reference_id
        assert reference_id is not None
        journal = self._journal
        if sent is None:
            if journal is not None:  # put the mark back: nothing went out
                await self._put_back(reference_id, prior)
            return self.not_attempted(row, request)
        if isinstance(sent, _Failed):
            return await self._failed(row, request, sent)
        payout = sent.payout
        if journal is not None:
            await self._record(
                reference_id, _BY_FATE[fate_of(payout)][1], payout_id=payout.id,
                payout_status=str(payout.status),
            )
        return self._succeeded(row, request, sent)

    def _succeeded(self, row: int, request: PayoutRequest, sent: _Sent) -> Outcome:
        """Count a row whose payout was sent or found (its journal mark written)."""
        payout = sent.payout
        status = _BY_FATE[fate_of(payout)][0]
        if sent.existing and status is not _OUTCOME_FAILED:
            status = OutcomeStatus.SKIPPED  # an earlier run paid it: not paid now
        return self._finish(
            # By position, in field order (one per row): row, status, request, payout,
            # error, attempts, recovered, latency.
            Outcome(row, status, request, payout, None, sent.attempts, sent.recovered,
                    sent.latency),
            sent.latency,
        )

    def refused(
        self, row: int, request: PayoutRequest, entry: JournalEntry | None, digest: str,
        *, by_peer: bool = False,
    ) -> Outcome:
        """The outcome of a row its claim refused: done (``skipped``), a duplicate or
        another payment (as :meth:`process` would say), or failed on another worker
        during this run (final for this run; a later run tries it again)."""
        assert entry is not None
        early = self._check_prior(row, request, entry, digest, by_peer=by_peer)
        if early is not None:
            return early
        error = BatchAbortedError(
            f"failed on worker {entry.run_id}: {entry.error or 'no answer'}; "
            "a later run tries it again"
        )
        return self._finish(Outcome(row, OutcomeStatus.FAILED, request, error=error), api=False)

    def lease_lost(self, error: JournalError) -> None:
        """The journal cannot renew this worker's leases: stop, and cancel every send
        in flight before another worker may take those rows over."""
        self._lease_error = error
        self._stop(str(error), error)
        for scope in self._in_flight:
            scope.cancel()

    def not_attempted(self, row: int, request: PayoutRequest) -> Outcome:
        outcome = Outcome(
            row, OutcomeStatus.NOT_ATTEMPTED, request,
            error=BatchAbortedError(self._stop.reason or "stopped", self._stop.error),
        )
        self._report.add(outcome)
        return outcome

    # -- the steps -----------------------------------------------------------------------

    def _check_prior(
        self, row: int, request: PayoutRequest, prior: JournalEntry, digest: str,
        *, by_peer: bool = False,
    ) -> Outcome | None:
        """The outcome for a row the journal says must not be sent now, else None.
        ``by_peer``: another worker of this run finished it (not an earlier run)."""
        reference_id = prior.reference_id
        if prior.run_id == self._run_id:
            error = ValidationError("reference_id", f"duplicate {reference_id!r} in this batch")
            return self._finish(Outcome(row, OutcomeStatus.FAILED, request, error=error), api=False)
        if prior.locked and prior.fingerprint != digest:
            journal_error = JournalError(
                f"reference_id {reference_id!r} is {prior.state} in the journal "
                f"{self._journal_name} with a different recipient, amount, currency or "
                "confirmation flag; a reference_id must always mean the same payment"
            )
            self._stop(str(journal_error), journal_error)
            return self._finish(
                Outcome(row, OutcomeStatus.FAILED, request, error=journal_error), api=False
            )
        if prior.done:
            payout = Payout(
                id=prior.payout_id or "",
                status=parse_status(prior.payout_status or ""),
                amount=request.amount,
                currency=request.currency,
                reference_id=reference_id,
                email=request.email,
                require_confirmation=request.require_confirmation,
            )
            return self._finish(
                Outcome(row, OutcomeStatus.SKIPPED, request, payout=payout, by_peer=by_peer),
                api=False,
            )
        return None

    async def _send_leased(
        self, request: PayoutRequest, prior: JournalEntry | None
    ) -> _Sent | _Failed:
        """:meth:`_send` for a leased row, cancelled by :meth:`lease_lost`."""
        started = time.monotonic()
        with anyio.CancelScope() as scope:
            self._in_flight.add(scope)
            try:
                return await self._send(request, prior)
            finally:
                self._in_flight.discard(scope)
        assert self._lease_error is not None  # cancelled by lease_lost
        return _Failed(self._lease_error, 0, time.monotonic() - started)

    async def _send(self, request: PayoutRequest, prior: JournalEntry | None) -> _Sent | _Failed:
        """The send (or lookup) itself, timed: the payout found by a lookup (a row an
        earlier run sent: ``existing``), or sent (``existing`` if the API had it)."""
        started = time.monotonic()
        if prior is not None and prior.state is not JournalState.PENDING:
            # A row the journal saw go out may exist already: look before sending.
            assert request.reference_id is not None
            try:
                found = await self._payouts.find_by_reference(
                    request.reference_id, max_retries=self._max_retries, timeout=self._timeout
                )
            except Exception as exc:
                return _Failed(exc, 0, time.monotonic() - started)
            if found is not None:
                error = conflict(request, found)
                if error is not None:
                    return _Failed(error, 0, time.monotonic() - started)
                return _Sent(found, 0, True, time.monotonic() - started, True)
        try:
            result = await self._payouts.send(
                request, max_retries=self._max_retries, timeout=self._timeout,
                on_attempt=self._observe,
            )
        except Exception as exc:
            # The pipeline's errors say how many attempts the create made.
            return _Failed(exc, getattr(exc, "attempts", 0), time.monotonic() - started)
        existing = bool(getattr(result, "existing", False))
        return _Sent(result.payout, result.attempts, result.recovered,
                     time.monotonic() - started, existing)

    async def _failed(self, row: int, request: PayoutRequest, failed: _Failed) -> Outcome:
        error = failed.error
        means = meaning(error)
        if means.fatal:
            self._stop(f"fatal error: {type(error).__name__}: {describe_error(error)}", error)
        if self._journal is not None:
            assert request.reference_id is not None
            # A refusal created nothing; anything else may have, so the row stays
            # `sending` and the next run looks it up before sending it again.
            state = JournalState.FAILED if means.refused else JournalState.SENDING
            await self._record(request.reference_id, state, error=describe_error(error))
        return self._finish(
            Outcome(row, OutcomeStatus.FAILED, request, error=error, attempts=failed.attempts,
                    latency=failed.latency),
            failed.latency,
        )

    async def _put_back(self, reference_id: str, prior: JournalEntry | None) -> None:
        """Undo a ``sending`` mark for a row that did not go out."""
        await self._record(
            reference_id,
            prior.state if prior else JournalState.PENDING,
            error=prior.error if prior else None,
        )

    async def _record(
        self,
        reference_id: str,
        state: JournalState,
        *,
        payout_id: str | None = None,
        payout_status: str | None = None,
        error: str | None = None,
    ) -> None:
        """Write a row's result; a journal that cannot be written stops the batch (the
        row stays ``sending`` on disk and is reconciled by the next run)."""
        assert self._journal is not None
        try:
            await self._journal.finish(
                reference_id, state, payout_id=payout_id, payout_status=payout_status,
                error=error,
            )
        except JournalError as exc:
            self._stop(f"the journal failed: {exc}", exc)

    def _finish(
        self, outcome: Outcome, latency: float | None = None, *, api: bool = True
    ) -> Outcome:
        """Count a row in the report and, for rows that reached the API, the breaker."""
        self._report.add(outcome, latency)
        if api and self._breaker is not None:
            reason = self._breaker.record(outcome.status is _OUTCOME_FAILED)
            if reason is not None:
                last = describe_error(outcome.error) if outcome.error else "payout failed"
                self._stop(f"{reason}; last error: {last}", outcome.error)
        return outcome

    def _on_attempt(self, attempt: Attempt) -> None:
        if is_congestion(attempt.status_code, attempt.error):
            self._limit.on_congestion()
        elif attempt.status_code is not None:
            self._limit.on_success()


@safe_repr
@attrs.define(slots=True)  # not frozen: built once per row, never changed, never shared
class _Sent:
    """A send that succeeded: the payout, the attempts it took, how it was found, and
    how long it took (for the report)."""

    payout: Payout
    attempts: int
    recovered: bool
    latency: float
    existing: bool = False  # made by an earlier run, found here


class _Failed:
    """A send that failed, with the attempts it made and how long it took (for the report)."""

    __slots__ = ("attempts", "error", "latency")

    def __init__(self, error: Exception, attempts: int, latency: float) -> None:
        self.error = error
        self.attempts = attempts
        self.latency = latency
