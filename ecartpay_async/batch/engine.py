"""The batch engine: many payouts at once, each exactly once, reported as they finish.

::

    async with client.payouts.batch(requests, concurrency=64, journal="payroll.db") as batch:
        async for outcome in batch:
            ...
    report = batch.report

Shape: one task group holds a feeder, which pulls requests lazily from the source,
and ``concurrency`` workers, joined by bounded memory streams; outcomes reach the
caller through another bounded stream. Nothing keeps a row after it is yielded (the
report folds it into aggregates), so memory stays O(concurrency) whatever the size of
the input, and a slow consumer slows the workers instead of filling memory.

Per row: the journal marks it ``sending`` (committed) before the request goes out; a
row the journal saw go out before is first looked up by reference_id; the result is
committed before the outcome is yielded. See :mod:`.journal`.

Several workers: with a journal, the rows of a finite input are claimed in chunks
(:meth:`Journal.claim`) by a claim feeder instead of one by one; rows another worker
holds are asked for again until they are final or their lease expires and they are
taken over (after a lookup). If the journal cannot renew this worker's leases, the
batch stops and cancels what is in flight before another worker may take it over.

Finite inputs (lists, tuples, :class:`~.source.CsvSource`, anything with ``len``) are
validated whole before anything is sent and refused with :class:`BatchValidationError`
if any row is bad. Rows of an unbounded iterator are validated as they are pulled: a
bad one becomes a ``failed`` outcome and the batch goes on.

Stopping: a fatal error (refused credentials, permission, insufficient balance, an
idempotency conflict, a journal that cannot be written) or the breaker stops new
sends; rows in flight finish; the rest of a finite input is reported
``not_attempted`` (an unbounded source is simply not read further). Leaving the
``async with`` block normally waits for the remaining rows; leaving it by an exception
or a cancellation cancels them, and rows in flight stay ``sending`` in the journal,
to be reconciled by lookup on the next run.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sized
from types import TracebackType
from typing import Any, Final, Protocol, TypeAlias

import anyio
import httpx
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._http import Attempt
from .._retry import retry_after_of
from ..errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BatchAbortedError,
    IdempotencyConflictError,
    JournalError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from ..models.common import PayoutStatus, parse_status
from ..models.payouts import Payout, PayoutRequest
from ..resources.payouts import differences
from .journal import (
    Claim,
    ClaimStatus,
    Journal,
    JournalEntry,
    JournalRow,
    JournalState,
    fingerprint,
    make_journal,
)
from .limits import AdaptiveLimit, Breaker, BreakerConfig, PauseGate, RateLimiter
from .outcome import Outcome, OutcomeStatus
from .report import BatchReport, ReportBuilder, describe_error
from .source import CsvSource
from .validate import DuplicateCheck, ProblemList, RowProblem, to_request

__all__ = ["DEFAULT_MAX_RETRIES", "Batch", "PayoutSender", "is_fatal", "send_batch"]

logger = logging.getLogger("ecartpay_async.batch")

#: A failed row costs a person a follow-up, so a batch retries harder than one call:
#: with a fifth of attempts failing, 9 tries leave about one row in a million failed.
DEFAULT_MAX_RETRIES: Final = 8

_REGISTER_CHUNK: Final = 500
_MAX_CLAIM_CHUNK: Final = 512
_CONFLICTS_LISTED: Final = 20
_BALANCE_WORDS: Final = re.compile(r"balance|insufficient|fondos|saldo", re.I)
_FAILED_STATUSES: Final = frozenset({
    PayoutStatus.FAILED, PayoutStatus.CANCELED, PayoutStatus.CANCELLED,
    PayoutStatus.REJECTED, PayoutStatus.REFUNDED,
})

Requests: TypeAlias = "Iterable[PayoutRequest | Any] | AsyncIterable[PayoutRequest | Any]"
#: A row for a worker: its position, the request, and its claim (None: not claimed yet).
_Work: TypeAlias = "tuple[int, PayoutRequest, Claim | None]"


class _SendResult(Protocol):
    @property
    def payout(self) -> Payout: ...

    @property
    def attempts(self) -> int: ...

    @property
    def recovered(self) -> bool: ...


class PayoutSender(Protocol):
    """What the engine needs from ``client.payouts`` (tests pass fakes)."""

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


def is_fatal(error: BaseException) -> bool:
    """Errors that doom every row, not just this one: stop the batch on them."""
    if isinstance(
        error, (AuthenticationError, PermissionDeniedError, IdempotencyConflictError, JournalError)
    ):
        return True
    return (
        isinstance(error, APIStatusError)
        and 400 <= error.status_code < 500
        and bool(_BALANCE_WORDS.search(error.message))
    )


def _is_definitive(error: BaseException) -> bool:
    """Whether a failed send certainly created nothing (else the row stays ``sending``).

    A 4xx other than 408/429 is a refusal of the request; the send's own lookup has
    already ruled out an earlier attempt having gone through.
    """
    if isinstance(error, ValidationError):
        return True
    return (
        isinstance(error, APIStatusError)
        and 400 <= error.status_code < 500
        and error.status_code not in (408, 429)
    )


def _payout_status(payout: Payout) -> tuple[OutcomeStatus, JournalState]:
    status = parse_status(str(payout.status).lower())
    if status == PayoutStatus.PAID:
        return OutcomeStatus.PAID, JournalState.PAID
    if status in _FAILED_STATUSES:
        return OutcomeStatus.FAILED, JournalState.FAILED
    # pending, or a status the SDK does not know: the payout exists and is not final.
    return OutcomeStatus.PENDING, JournalState.PENDING_CONFIRMATION


class Batch:
    """A running batch; see the module docstring. Build it with ``client.payouts.batch``.

    Options: ``concurrency`` (sends in flight at most), ``journal`` (a path for a
    :class:`SQLiteJournal`, a ``postgresql://`` DSN for a
    :class:`~.postgres.PostgresJournal` shared by several workers, or any
    :class:`Journal`), ``batch_label`` (the rows' label in a PostgreSQL journal; default
    the CSV file's name), ``rate_limit`` (sends started per
    second), ``max_retries`` and ``timeout`` (per payout), ``breaker`` (a
    :class:`BreakerConfig`, or None to never trip), ``adaptive`` (AIMD concurrency).
    """

    def __init__(
        self,
        payouts: PayoutSender,
        requests: Requests,
        *,
        concurrency: int = 64,
        journal: Journal | str | os.PathLike[str] | None = None,
        rate_limit: float | None = None,
        max_retries: int | None = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout | None = None,
        breaker: BreakerConfig | None = BreakerConfig(),  # noqa: B008 (frozen, shared)
        adaptive: bool = True,
        batch_label: str | None = None,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError("concurrency must be a positive integer")
        self._payouts = payouts
        self._requests = requests
        self.concurrency = concurrency
        if batch_label is None and isinstance(requests, CsvSource):
            batch_label = os.path.basename(requests.path)
        self._journal: Journal | None = (
            None if journal is None else make_journal(journal, batch=batch_label)
        )
        self._rate = RateLimiter(rate_limit) if rate_limit is not None else None
        self._max_retries = max_retries
        self._timeout = timeout
        self._breaker = Breaker(breaker) if breaker is not None else None
        self._adaptive = AdaptiveLimit(concurrency)
        self._adaptive_enabled = adaptive
        self._gate = PauseGate()
        self._builder = ReportBuilder()
        #: This worker's id in the journal (``host:pid:random``).
        self.run_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: Rows another worker held when this one first asked for them.
        self.held_elsewhere = 0
        self._in_flight: set[anyio.CancelScope] = set()
        self._queued: dict[str, Claim] = {}  # claimed, waiting for a worker
        self._stop_reason: str | None = None
        self._stop_error: BaseException | None = None
        self._source_failure: tuple[str, BaseException] | None = None
        self._started = 0.0
        self._report: BatchReport | None = None
        self._task_group: TaskGroup | None = None
        self._outcomes: MemoryObjectReceiveStream[Outcome] | None = None
        self._journal_open = False
        #: Rows in a finite input (known after validation), else None.
        self.total: int | None = None

    # -- what the caller sees ----------------------------------------------------------

    @property
    def report(self) -> BatchReport:
        """The final report once the ``async with`` block has exited; a snapshot before."""
        if self._report is not None:
            return self._report
        return self._build_report()

    @property
    def journal(self) -> Journal | None:
        return self._journal

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def stopped(self) -> bool:
        """Whether the batch sends nothing new (a fatal error, the breaker, :meth:`stop`)."""
        return self._stop_reason is not None

    def stop(self, reason: str = "stopped by the caller") -> None:
        """Send nothing new; rows in flight finish, the rest are ``not_attempted``."""
        self._stop(reason, None)

    def __aiter__(self) -> AsyncIterator[Outcome]:
        return self

    async def __anext__(self) -> Outcome:
        if self._outcomes is None:
            raise RuntimeError("iterate a batch inside 'async with client.payouts.batch(...)'")
        try:
            return await self._outcomes.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    # -- lifetime ----------------------------------------------------------------------

    async def __aenter__(self) -> Batch:
        if self._task_group is not None or self._report is not None:
            raise RuntimeError("a batch runs once")
        self._started = anyio.current_time()
        if self._journal is not None:
            await self._journal.__aenter__()
            self._journal_open = True
            self._journal.on_lease_lost(self._lease_lost)
        try:
            await self._preflight()
            outcome_send, self._outcomes = anyio.create_memory_object_stream[Outcome](
                self.concurrency
            )
            work_send, work_receive = anyio.create_memory_object_stream[_Work](
                self.concurrency
            )
            self._task_group = anyio.create_task_group()
            await self._task_group.__aenter__()
        except BaseException as exc:
            await self._close_journal(type(exc), exc, exc.__traceback__)
            raise
        with outcome_send, work_send, work_receive:
            feed = self._feed_claims if self._claims_rows() else self._feed
            self._task_group.start_soon(feed, work_send.clone(), outcome_send.clone())
            for _ in range(self.concurrency):
                self._task_group.start_soon(
                    self._work, work_receive.clone(), outcome_send.clone()
                )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None
        assert self._outcomes is not None
        try:
            if exc is None:
                try:
                    async for _ in self._outcomes:
                        pass  # already counted in the report when produced
                except BaseException as drain_exc:
                    exc_type, exc, tb = type(drain_exc), drain_exc, drain_exc.__traceback__
                    raise
        finally:
            if exc is not None:
                if self._stop_reason is None:
                    self._stop("cancelled" if _is_cancel(exc) else f"interrupted: {exc!r}", exc)
                self._task_group.cancel_scope.cancel()
            try:
                # The caller's exception is not the workers': it propagates as it is,
                # not wrapped in an exception group.
                await self._task_group.__aexit__(None, None, None)
            finally:
                self._outcomes.close()
                await self._release_queued()
                await self._close_journal(exc_type, exc, tb)
                self._report = self._build_report()

    async def _release_queued(self) -> None:
        """Put back rows claimed but never started (a cancelled batch): the next run,
        or another worker, sends them without waiting for the lease or a lookup."""
        if not self._queued or not self._journal_open:
            return
        with anyio.CancelScope(shield=True) as scope:
            scope.deadline = anyio.current_time() + 10
            for claim in list(self._queued.values()):
                await self._put_back(claim.reference_id, claim.entry)
        self._queued.clear()

    async def _close_journal(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._journal is not None and self._journal_open:
            self._journal_open = False
            await self._journal.__aexit__(exc_type, exc, tb)

    def _build_report(self) -> BatchReport:
        reason, error = self._stop_reason, self._stop_error
        if reason is None and self._source_failure is not None:
            reason, error = self._source_failure
        return self._builder.build(
            duration=anyio.current_time() - self._started if self._started else 0.0,
            abort_reason=reason,
            abort_error=error,
            concurrency_decreases=self._adaptive.decreases,
        )

    # -- pre-flight ----------------------------------------------------------------------

    async def _preflight(self) -> None:
        """Validate a finite input whole and check it against the journal."""
        requests = self._requests
        if not isinstance(requests, Sized) or isinstance(requests, AsyncIterable):
            return  # an unbounded source: rows are checked as they are pulled
        if isinstance(requests, CsvSource):
            # It checks itself, by line number (reading the file: off the event loop).
            self.total = await anyio.to_thread.run_sync(len, requests)
        else:
            self.total = await self._validate_rows(requests)
        if self._journal is not None:
            await self._register(requests)

    async def _validate_rows(self, requests: Iterable[Any]) -> int:
        problems = ProblemList()
        duplicates = DuplicateCheck()
        rows = 0
        for rows, item in enumerate(requests, 1):
            if rows % 1000 == 0:
                await anyio.lowlevel.checkpoint()
            try:
                request = to_request(item)
            except ValidationError as exc:
                problems.add(RowProblem(rows, exc.field, exc.reason))
                continue
            assert request.reference_id is not None
            duplicate = duplicates.check(request.reference_id, rows)
            if duplicate is not None:
                problems.add(duplicate)
        if rows == 0:
            problems.add(RowProblem(0, "requests", "the batch has no rows"))
        problems.raise_if_any()
        return rows

    async def _register(self, requests: Iterable[Any]) -> None:
        assert self._journal is not None
        conflicts: list[tuple[int, JournalEntry]] = []
        chunk: list[JournalRow] = []
        rows: dict[str, int] = {}

        async def flush() -> None:
            for entry in await self._journal.register(chunk):  # type: ignore[union-attr]
                conflicts.append((rows[entry.reference_id], entry))
            chunk.clear()
            rows.clear()

        for row, item in enumerate(requests, 1):
            request = to_request(item)
            assert request.reference_id is not None
            chunk.append(_journal_row(request))
            rows[request.reference_id] = row
            if len(chunk) >= _REGISTER_CHUNK:
                await flush()
        await flush()
        if conflicts:
            lines = [
                f"  row {row}: reference_id {entry.reference_id!r} was {entry.state} "
                "with a different recipient, amount, currency or confirmation flag"
                for row, entry in conflicts[:_CONFLICTS_LISTED]
            ]
            if len(conflicts) > _CONFLICTS_LISTED:
                lines.append(f"  ... and {len(conflicts) - _CONFLICTS_LISTED} more")
            raise JournalError(
                f"{len(conflicts)} row(s) disagree with the journal {self._journal_name()}; "
                "nothing was sent. A reference_id must always mean the same payment: "
                "restore the original rows or use new reference_ids.\n" + "\n".join(lines)
            )

    def _journal_name(self) -> str:
        return getattr(self._journal, "path", None) or repr(self._journal)

    # -- the feeder and the workers --------------------------------------------------------

    async def _feed(
        self,
        work: MemoryObjectSendStream[_Work],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        finite = self.total is not None
        async with work, outcomes:
            row = 0
            try:
                async for item in _iterate(self._requests):
                    row += 1
                    try:
                        request = to_request(item)
                    except ValidationError as exc:
                        await self._emit(outcomes, Outcome(
                            row, OutcomeStatus.FAILED, None,
                            error=ValidationError(exc.field, f"row {row}: {exc.reason}"),
                        ))
                        continue
                    if self._stop_reason is None:
                        await work.send((row, request, None))
                    elif finite:
                        await self._emit(outcomes, self._not_attempted(row, request))
                    else:
                        return
            except Exception as exc:
                # Rows already pulled are fine and still go out; the batch just ends early.
                reason = f"reading the requests failed: {describe_error(exc)}"
                logger.warning("batch input ended early: %s", reason)
                self._source_failure = (reason, exc)

    async def _work(
        self,
        work: MemoryObjectReceiveStream[_Work],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        async with work, outcomes:
            async for row, request, claim in work:
                await self._emit(outcomes, await self._process(row, request, claim))

    async def _emit(self, outcomes: MemoryObjectSendStream[Outcome], outcome: Outcome) -> None:
        await outcomes.send(outcome)

    def _stop(self, reason: str, error: BaseException | None) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_error = error
            logger.warning("batch stopping: %s", reason)

    def _not_attempted(self, row: int, request: PayoutRequest) -> Outcome:
        outcome = Outcome(
            row, OutcomeStatus.NOT_ATTEMPTED, request,
            error=BatchAbortedError(self._stop_reason or "stopped", self._stop_error),
        )
        self._builder.add(outcome)
        return outcome

    def _finish(
        self, outcome: Outcome, latency: float | None = None, *, api: bool = True
    ) -> Outcome:
        """Count a row in the report and, for rows that reached the API, the breaker."""
        self._builder.add(outcome, latency)
        if api and self._breaker is not None and outcome.status is not OutcomeStatus.SKIPPED:
            reason = self._breaker.record(outcome.status is OutcomeStatus.FAILED)
            if reason is not None:
                last = describe_error(outcome.error) if outcome.error else "payout failed"
                self._stop(f"{reason}; last error: {last}", outcome.error)
        return outcome

    async def _process(self, row: int, request: PayoutRequest, claim: Claim | None) -> Outcome:
        reference_id = request.reference_id
        assert reference_id is not None
        prior: JournalEntry | None = None
        journal = self._journal
        if claim is not None:
            self._queued.pop(reference_id, None)
        if self._stop_reason is not None:
            if claim is not None:  # claimed but not sent: put the row back
                await self._put_back(reference_id, claim.entry)
            return self._not_attempted(row, request)
        if claim is not None:
            prior = claim.entry  # granted by the claim feeder, checked there
        elif journal is not None:
            digest = fingerprint(request)
            try:
                prior = await journal.begin(reference_id, digest, self.run_id)
            except JournalError as exc:
                self._stop(f"the journal failed: {exc}", exc)
                return self._not_attempted(row, request)
            if prior is not None:
                early = self._check_prior(row, request, prior, digest)
                if early is not None:
                    return early
        async with self._adaptive.limiter:
            await self._gate.wait()
            if self._rate is not None:
                await self._rate.acquire()
            if self.stopped:  # while this row waited for its turn
                if journal is not None:  # put the mark back: nothing went out
                    await self._put_back(reference_id, prior)
                return self._not_attempted(row, request)
            started = anyio.current_time()
            attempts = 0

            def observe(attempt: Attempt) -> None:
                nonlocal attempts
                attempts = max(attempts, attempt.number)
                self._on_attempt(attempt)

            try:
                # A row the journal saw go out may exist already: look before sending.
                seen_before = prior is not None and prior.state is not JournalState.PENDING
                with anyio.CancelScope() as scope:
                    self._in_flight.add(scope)
                    try:
                        payout, recovered = await self._send(
                            request, lookup_first=seen_before, observe=observe
                        )
                    finally:
                        self._in_flight.discard(scope)
                if scope.cancelled_caught:  # the leases may lapse: see _lease_lost
                    assert self._stop_error is not None
                    raise self._stop_error
            except Exception as exc:
                latency = anyio.current_time() - started
                return await self._failed(row, request, exc, attempts, latency)
        latency = anyio.current_time() - started
        status, state = _payout_status(payout)
        if journal is not None:
            await self._record(
                reference_id, state, payout_id=payout.id, payout_status=str(payout.status)
            )
        return self._finish(
            Outcome(row, status, request, payout=payout, attempts=attempts, recovered=recovered),
            latency,
        )

    async def _put_back(self, reference_id: str, prior: JournalEntry | None) -> None:
        """Undo a ``sending`` mark for a row that did not go out."""
        await self._record(
            reference_id,
            prior.state if prior else JournalState.PENDING,
            error=prior.error if prior else None,
        )

    def _lease_lost(self, error: JournalError) -> None:
        """The journal cannot renew this worker's leases: stop, and cancel every send
        in flight before another worker may take those rows over."""
        self._stop(str(error), error)
        for scope in self._in_flight:
            scope.cancel()

    # -- the claim feeder (a journal and a finite input) -----------------------------------

    def _claims_rows(self) -> bool:
        """Claim in chunks when several workers share the journal and the input is
        finite; otherwise each worker asks the journal for its row (``begin``)."""
        return self._journal is not None and self._journal.shared and self.total is not None

    async def _feed_claims(
        self,
        work: MemoryObjectSendStream[_Work],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        """Claim the input's rows in chunks; hand granted rows to the workers; ask
        again for rows other workers hold until each is final or taken over."""
        held: dict[str, tuple[int, PayoutRequest]] = {}
        chunk: list[tuple[int, PayoutRequest]] = []
        base = size = max(8, min(self.concurrency, 256))
        async with work, outcomes:
            row = 0
            async for item in _iterate(self._requests):
                row += 1
                chunk.append((row, to_request(item)))  # validated whole by pre-flight
                if len(chunk) >= size:
                    granted = await self._claim(chunk, held, work, outcomes)
                    # Past rows other workers took, look further ahead per statement.
                    size = base if granted else min(size * 2, _MAX_CLAIM_CHUNK)
                    chunk = []
            await self._claim(chunk, held, work, outcomes)
            while held and self._stop_reason is None:
                assert self._journal is not None
                await anyio.sleep(self._journal.poll_interval)
                waiting = sorted(held.values(), key=lambda item: item[0])
                held.clear()
                for start in range(0, len(waiting), base):
                    await self._claim(waiting[start:start + base], held, work, outcomes,
                                      again=True)
            for row, request in sorted(held.values(), key=lambda item: item[0]):
                await self._emit(outcomes, self._not_attempted(row, request))

    async def _claim(
        self,
        rows: list[tuple[int, PayoutRequest]],
        held: dict[str, tuple[int, PayoutRequest]],
        work: MemoryObjectSendStream[_Work],
        outcomes: MemoryObjectSendStream[Outcome],
        *,
        again: bool = False,
    ) -> int:
        """Claim ``rows``: send the granted to the workers, report the refused, and
        keep the held in ``held`` for the next round. Returns how many were granted."""
        if not rows:
            return 0
        assert self._journal is not None
        claims: list[Claim] = []
        if self._stop_reason is None:
            try:
                claims = await self._journal.claim(
                    [_journal_row(request) for _, request in rows], self.run_id
                )
            except JournalError as exc:
                self._stop(f"the journal failed: {exc}", exc)
        if not claims:
            for row, request in rows:
                await self._emit(outcomes, self._not_attempted(row, request))
            return 0
        self._queued.update(
            (claim.reference_id, claim) for claim in claims if claim.status is ClaimStatus.GRANTED
        )
        for (row, request), claim in zip(rows, claims, strict=True):
            if claim.status is ClaimStatus.GRANTED:
                await work.send((row, request, claim))
            elif claim.status is ClaimStatus.HELD:
                self.held_elsewhere += not again
                held[claim.reference_id] = (row, request)
            else:
                await self._emit(outcomes, self._refused(row, request, claim.entry))
        return sum(claim.status is ClaimStatus.GRANTED for claim in claims)

    def _refused(self, row: int, request: PayoutRequest, entry: JournalEntry | None) -> Outcome:
        """The outcome of a row its claim refused: done, another payment, or failed on
        another worker during this run (final for this run)."""
        assert entry is not None
        early = self._check_prior(row, request, entry, fingerprint(request))
        if early is not None:
            return early
        error = BatchAbortedError(
            f"failed on worker {entry.run_id}: {entry.error or 'no answer'}; "
            "a later run tries it again"
        )
        return self._finish(Outcome(row, OutcomeStatus.FAILED, request, error=error), api=False)

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

    def _check_prior(
        self, row: int, request: PayoutRequest, prior: JournalEntry, digest: str
    ) -> Outcome | None:
        """The outcome for a row the journal says must not be sent now, else None."""
        reference_id = prior.reference_id
        if prior.run_id == self.run_id:
            error = ValidationError("reference_id", f"duplicate {reference_id!r} in this batch")
            return self._finish(Outcome(row, OutcomeStatus.FAILED, request, error=error), api=False)
        if prior.locked and prior.fingerprint != digest:
            journal_error = JournalError(
                f"reference_id {reference_id!r} is {prior.state} in the journal "
                f"{self._journal_name()} with a different recipient, amount, currency or "
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
                Outcome(row, OutcomeStatus.SKIPPED, request, payout=payout), api=False
            )
        return None

    async def _send(
        self, request: PayoutRequest, *, lookup_first: bool, observe: Callable[[Attempt], None]
    ) -> tuple[Payout, bool]:
        """The payout for ``request``: found by lookup (a row seen before), or sent."""
        if lookup_first:
            assert request.reference_id is not None
            found = await self._payouts.find_by_reference(
                request.reference_id, max_retries=self._max_retries, timeout=self._timeout
            )
            if found is not None:
                diffs = differences(request, found)
                if diffs:
                    raise IdempotencyConflictError(request.reference_id, diffs, existing=found)
                return found, True
        result = await self._payouts.send(
            request, max_retries=self._max_retries, timeout=self._timeout, on_attempt=observe
        )
        return result.payout, result.recovered

    async def _failed(
        self, row: int, request: PayoutRequest, error: Exception, attempts: int, latency: float
    ) -> Outcome:
        reference_id = request.reference_id
        assert reference_id is not None
        if is_fatal(error):
            self._stop(f"fatal error: {type(error).__name__}: {describe_error(error)}", error)
        wait = retry_after_of(error)
        if isinstance(error, RateLimitError) and wait:
            self._gate.pause(wait)
        if self._journal is not None:
            # A refusal created nothing; anything else may have, so the row stays
            # `sending` and the next run looks it up before sending it again.
            state = JournalState.FAILED if _is_definitive(error) else JournalState.SENDING
            await self._record(reference_id, state, error=describe_error(error))
        return self._finish(
            Outcome(row, OutcomeStatus.FAILED, request, error=error, attempts=attempts), latency
        )

    def _on_attempt(self, attempt: Attempt) -> None:
        if not self._adaptive_enabled:
            return
        status = attempt.status_code
        if status is None:
            if isinstance(attempt.error, APIConnectionError):
                self._adaptive.on_congestion()
        elif status == 429 or status >= 500:
            self._adaptive.on_congestion()
            wait = retry_after_of(attempt.error)
            if wait:
                self._gate.pause(wait)
        else:
            self._adaptive.on_success()


def _journal_row(request: PayoutRequest) -> JournalRow:
    assert request.reference_id is not None
    return JournalRow(
        request.reference_id, fingerprint(request), request.amount, request.currency
    )


async def _iterate(requests: Requests) -> AsyncIterator[Any]:
    """Items of a sync or async iterable, pulled one at a time."""
    if isinstance(requests, AsyncIterable):
        async for item in requests:
            yield item
    else:
        for item in requests:
            yield item


def _is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, anyio.get_cancelled_exc_class()) or not isinstance(exc, Exception)


async def send_batch(payouts: PayoutSender, requests: Requests, **options: Any) -> BatchReport:
    """Run a batch to its end and return its report (see :class:`Batch` for options)."""
    async with Batch(payouts, requests, **options) as batch:
        pass  # leaving the block waits for every row
    return batch.report

