"""The batch engine: many payouts at once, each exactly once, reported as they finish.

::

    async with client.payouts.batch(requests, concurrency=64, journal="payroll.db") as batch:
        async for outcome in batch:
            ...
    report = batch.report

This module is the plumbing: the batch's lifetime, the feeder and the workers. What
happens to each row (journal, lookup or send, what a failure means) is the per-row
policy of :mod:`.rows`; what a failure means is :mod:`ecartpay_async.rules`'.

Shape: the batch's lifetime is one async context manager (:meth:`Batch.__asynccontextmanager__`)
holding the journal and one task group. In it, ``concurrency`` workers pull rows from
the input (through a feeder task and a bounded stream when the input is an async
iterable) and send each outcome to the caller through another bounded stream.
Nothing keeps a row after it is yielded (the report folds it into aggregates), so
memory stays O(concurrency) whatever the size of the input, and a slow consumer
slows the workers instead of filling memory.

Several workers: with a journal they share (:class:`~.postgres.PostgresJournal`), the
rows of a finite input are claimed in chunks by a claim feeder (:meth:`Journal.claim`)
instead of one by one; rows another worker holds are asked for again until they are
final or their lease expires and they are taken over (after a lookup). If the journal
cannot renew this worker's leases, the batch stops and cancels what is in flight
before another worker may take it over.

Finite inputs (lists, tuples, :class:`~.source.CsvSource`, anything with ``len``) are
validated whole before anything is sent and refused with :class:`BatchValidationError`
if any row is bad. Rows of an unbounded iterator are validated as they are pulled: a
bad one becomes a ``failed`` outcome and the batch goes on.

Stopping: a fatal error (see the table in :mod:`ecartpay_async.rules`), the breaker or
:meth:`Batch.stop` stops new sends; rows in flight finish; the rest of a finite input
is reported ``not_attempted`` (an unbounded source is simply not read further).
Leaving the ``async with`` block normally waits for the remaining rows; leaving it by
an exception or a cancellation cancels them, and rows in flight (and rows claimed
and waiting for a send slot) stay ``sending`` in the journal, to be reconciled by
lookup on the next run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypedDict

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._pause import PauseStats
from ..errors import EcartPayError, JournalError, ValidationError
from ..models.payouts import PayoutRequest
from ..rules import fingerprint, is_fatal
from .dsn import journal_kind
from .identity import JournalIdentity, input_digest
from .journal import Claim, ClaimStatus, Journal, JournalEntry, JournalRow, SQLiteJournal
from .limits import AdaptiveLimit, Breaker, BreakerConfig, RateLimiter
from .outcome import Outcome, OutcomeStatus
from .report import BatchReport, ReportBuilder, describe_error
from .rows import PayoutSender, RowPolicy, StopSignal
from .source import CsvSource
from .validate import DuplicateCheck, ProblemList, RowProblem, to_request

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_MAX_RETRIES", "Batch", "BatchOptions", "PayoutSender", "is_fatal", "send_batch",
]

logger = logging.getLogger("ecartpay_async.batch")

#: A failed row costs a person a follow-up, so a batch retries harder than one call:
#: with a fifth of attempts failing, 9 tries leave about one row in a million failed.
DEFAULT_MAX_RETRIES: Final = 8

_REGISTER_CHUNK: Final = 500
_MAX_CLAIM_CHUNK: Final = 512
_CONFLICTS_LISTED: Final = 20

Requests: TypeAlias = "Iterable[PayoutRequest | Any] | AsyncIterable[PayoutRequest | Any]"
#: A claimed row for a worker: its position, the request and its claim.
_Claimed: TypeAlias = "tuple[int, PayoutRequest, Claim]"


class BatchOptions(TypedDict, total=False):
    """The options of :class:`Batch`, typed, for the methods that pass them on
    (``client.payouts.batch``, ``send_batch``, ``Telemetry.batch``)."""

    concurrency: int
    journal: Journal | str | os.PathLike[str] | None
    rate_limit: float | None
    max_retries: int | None
    timeout: float | httpx.Timeout | None
    breaker: BreakerConfig | None
    adaptive: bool
    batch_label: str | None
    journal_schema: str
    before_sending: Callable[[Mapping[str, Decimal]], Awaitable[None]] | None


class Batch(anyio.AsyncContextManagerMixin):
    """A running batch; see the module docstring. Build it with ``client.payouts.batch``.

    Options: ``concurrency`` (sends in flight at most), ``journal`` (a path for a
    :class:`SQLiteJournal`, a ``postgresql://`` DSN for a
    :class:`~.postgres.PostgresJournal` shared by several workers, or any
    :class:`Journal`), ``batch_label`` (the rows' label in a PostgreSQL journal; default
    the CSV file's name), ``journal_schema`` (the PostgreSQL schema holding it,
    ``ecartpay`` by default), ``rate_limit`` (sends started per
    second), ``max_retries`` and ``timeout`` (per payout), ``breaker`` (a
    :class:`BreakerConfig`, or None to never trip), ``adaptive`` (AIMD concurrency),
    ``before_sending`` (for a finite input: awaited once before the first payout with
    what the run may send per currency, the rows a journal shows done left out; an
    exception it raises leaves the ``async with`` and nothing is sent: the command
    line's balance check).
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
        journal_schema: str = "ecartpay",
        before_sending: Callable[[Mapping[str, Decimal]], Awaitable[None]] | None = None,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError("concurrency must be a positive integer")
        if batch_label is not None and not batch_label.strip():
            raise ValueError("batch_label must be a non-empty label")
        self._payouts = payouts
        self._requests = requests
        self.concurrency = concurrency
        if batch_label is None and isinstance(requests, CsvSource):
            batch_label = os.path.basename(requests.path)
        self._journal: Journal | None = (
            None if journal is None else make_journal(journal, batch_label, journal_schema)
        )
        #: This worker's id in the journal (``host:pid:random``).
        self.run_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: Rows another worker held when this one first asked for them.
        self.held_elsewhere = 0
        #: Whether this run adopted a journal written before journals recorded their
        #: origin and account (see :mod:`.identity`).
        self.adopted = False
        self._adaptive = AdaptiveLimit(concurrency)
        self._builder = ReportBuilder()
        self._stop = StopSignal()
        self._policy = RowPolicy(
            payouts,
            self._journal,
            run_id=self.run_id,
            stop=self._stop,
            report=self._builder,
            limit=self._adaptive,
            adaptive=adaptive,
            rate=RateLimiter(rate_limit) if rate_limit is not None else None,
            breaker=Breaker(breaker) if breaker is not None else None,
            max_retries=max_retries,
            timeout=timeout,
            journal_name=self._journal_name(),
        )
        self._before_sending = before_sending
        self._source_failure: tuple[str, BaseException] | None = None
        self._started = 0.0
        self._entered = False
        self._report: BatchReport | None = None
        self._outcomes: MemoryObjectReceiveStream[Outcome] | None = None
        # send_batch reads only the report: its outcomes need not travel to a reader.
        self._streaming = True
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
    def pauses(self) -> PauseStats:
        """How often, and how long, the server made the client pause (``Retry-After``)."""
        return self._payouts.pause_gate.stats()

    @property
    def journal(self) -> Journal | None:
        return self._journal

    @property
    def stop_reason(self) -> str | None:
        return self._stop.reason

    @property
    def stopped(self) -> bool:
        """Whether the batch sends nothing new (a fatal error, the breaker, :meth:`stop`)."""
        return self._stop.stopped

    def stop(self, reason: str = "stopped by the caller") -> None:
        """Send nothing new; rows in flight finish, the rest are ``not_attempted``."""
        self._stop(reason)

    def __aiter__(self) -> AsyncIterator[Outcome]:
        return self

    async def __anext__(self) -> Outcome:
        if self._outcomes is None or not self._streaming:
            raise RuntimeError("iterate a batch inside 'async with client.payouts.batch(...)'")
        try:
            # Take what is ready without yielding to the loop; wait only when nothing is.
            return self._outcomes.receive_nowait()
        except anyio.WouldBlock:
            pass
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        try:
            return await self._outcomes.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    # -- lifetime ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[Batch]:
        if self._entered:
            raise RuntimeError("a batch runs once")
        self._entered = True
        self._started = anyio.current_time()
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self._journal is not None:
                    await stack.enter_async_context(self._journal)
                    self._journal.on_lease_lost(self._policy.lease_lost)
                await self._preflight()
                async with self._running():
                    yield self
        finally:
            self._report = self._build_report()

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        """The task group of the workers, open while the caller's block runs.

        Leaving the block normally drains the outcomes (every row finishes); leaving
        it by an exception or a cancellation stops the batch and cancels the workers,
        and the caller's exception propagates as it is, not in an exception group.
        """
        send, receive = anyio.create_memory_object_stream[Outcome](self.concurrency)
        self._outcomes = receive
        caller_error: BaseException | None = None
        with receive:
            async with anyio.create_task_group() as group:
                group.start_soon(self._run_rows, send)
                try:
                    yield
                    async for _ in receive:
                        pass  # already counted in the report when produced
                except BaseException as exc:
                    caller_error = exc
                    self._stop("cancelled" if _is_cancel(exc) else f"interrupted: {exc!r}", exc)
                    group.cancel_scope.cancel()
        if caller_error is not None:
            raise caller_error

    def _build_report(self) -> BatchReport:
        reason, error = self._stop.reason, self._stop.error
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
            # An unbounded source: rows are checked as they are pulled, and its input
            # is not known in advance (the journal compares origin and account only).
            if self._journal is not None:
                await self._bind(None)
            return
        if isinstance(requests, CsvSource):
            # It checks itself, by line number (reading the file: off the event loop).
            self.total = await anyio.to_thread.run_sync(len, requests)
        else:
            self.total = await self._validate_rows(requests)
        to_send: dict[str, Decimal] = {}
        if self._journal is not None:
            if not await self._bind(requests):
                return
            await self._register(requests, to_send)
        elif self._before_sending is not None:
            to_send = await anyio.to_thread.run_sync(_totals, requests)
        if self._before_sending is not None:
            await self._before_sending(to_send)

    async def _bind(self, requests: Iterable[Any] | None) -> bool:
        """Check that the journal belongs to this run (its origin, account and input;
        see :mod:`.identity`), or record it; False if the API could not say who this
        run is (the batch then stops before sending anything)."""
        journal, identify = self._journal, getattr(self._payouts, "run_identity", None)
        bind = getattr(journal, "bind", None)
        if bind is None or identify is None:
            return True  # a journal or a sender of one's own that keeps no identity
        digest = "" if requests is None else await anyio.to_thread.run_sync(
            input_digest, requests
        )
        # Origin, environment and input first: another API or another file is refused
        # before any request (a production run never asks production for a token to
        # learn that its journal is a sandbox rehearsal's).
        where: JournalIdentity = await identify(account=False)
        self.adopted = await bind(where.with_input(digest))
        try:
            identity: JournalIdentity = await identify()
        except EcartPayError as exc:
            # No token: nothing can be sent either; the rows are reported not attempted.
            self._stop(f"cannot tell whose journal this is: {describe_error(exc)}", exc)
            return False
        self.adopted = await bind(identity.with_input(digest)) or self.adopted
        if self.adopted:
            logger.warning(
                "journal %s recorded no origin or account (written by an earlier version); "
                "it now belongs to %s (%s), account %s",
                self._journal_name(), identity.origin, identity.environment, identity.account,
            )
        return True

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

    async def _register(self, requests: Iterable[Any], to_send: dict[str, Decimal]) -> None:
        """Record the rows in the journal (refusing rows it holds as another payment),
        and add to ``to_send`` what the rows not done yet pay, per currency."""
        assert self._journal is not None
        conflicts: list[tuple[int, JournalEntry]] = []
        chunk: list[JournalRow] = []
        rows: dict[str, int] = {}
        done_among = getattr(self._journal, "done_among", None)

        async def flush() -> None:
            for entry in await self._journal.register(chunk):  # type: ignore[union-attr]
                conflicts.append((rows[entry.reference_id], entry))
            if self._before_sending is not None:
                done = await done_among(list(rows)) if done_among is not None else set()
                for row in chunk:
                    if row.reference_id not in done and row.amount is not None:
                        currency = row.currency or ""
                        to_send[currency] = to_send.get(currency, Decimal(0)) + row.amount
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
        return str(getattr(self._journal, "path", None) or repr(self._journal))

    # -- the feeder and the workers --------------------------------------------------------

    async def _run_rows(self, outcomes: MemoryObjectSendStream[Outcome]) -> None:
        """Start the workers (and, for an async input, the feeder), all in one group."""
        async with outcomes, anyio.create_task_group() as group:
            requests = self._requests
            if self._claims_rows():
                claimed_send, claimed_receive = anyio.create_memory_object_stream[_Claimed](
                    self.concurrency
                )
                with claimed_receive:
                    group.start_soon(self._feed_claims, claimed_send, outcomes.clone())
                    for _ in range(self._workers()):
                        group.start_soon(
                            self._work_claimed, claimed_receive.clone(), outcomes.clone()
                        )
            elif isinstance(requests, AsyncIterable):
                work_send, work_receive = anyio.create_memory_object_stream[
                    tuple[int, Any]
                ](self.concurrency)
                with work_receive:
                    group.start_soon(self._feed, requests, work_send, outcomes.clone())
                    for _ in range(self._workers()):
                        group.start_soon(self._work, work_receive.clone(), outcomes.clone())
            else:
                # Numbered from 1 as pulled, shared by the workers (next() on it is C).
                rows = enumerate(requests, 1)
                for _ in range(self._workers()):
                    group.start_soon(self._work_through, rows, outcomes.clone())

    def _workers(self) -> int:
        """Workers to run: one per send in flight, or, with a journal, twice as many.

        A journaled row also waits for two commits (its ``sending`` mark before the
        request, its result after); the extra workers wait for those while
        ``concurrency`` others hold the send slots, so the journal does not cut the
        sends in flight.
        """
        return self.concurrency * 2 if self._journal is not None else self.concurrency

    async def _feed(
        self,
        requests: AsyncIterable[Any],
        work: MemoryObjectSendStream[tuple[int, Any]],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        """Pull an async input row by row into the workers' stream."""
        async with work, outcomes:
            row = 0
            try:
                async for item in requests:
                    row += 1
                    if self._stop.stopped:
                        return  # an unbounded source: simply not read further
                    await work.send((row, item))
            except Exception as exc:
                self._source_failed(exc)

    async def _work(
        self,
        work: MemoryObjectReceiveStream[tuple[int, Any]],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        async with work, outcomes:
            async for row, item in work:
                await self._emit(outcomes, await self._outcome(row, item, finite=False))

    async def _work_through(
        self, rows: Iterator[tuple[int, Any]], outcomes: MemoryObjectSendStream[Outcome]
    ) -> None:
        """A worker on a synchronous input: pulls the next row itself (no feeder task).
        An input that fails ends every worker, even one that would go on (csv.reader)."""
        finite = self.total is not None
        policy = self._policy
        async with outcomes:
            while self._source_failure is None:
                if not finite and self._stop.stopped:
                    return  # an unbounded source: simply not read further
                try:
                    pulled = next(rows, None)
                except Exception as exc:
                    self._source_failed(exc)
                    return
                if pulled is None:
                    return
                # The common row goes straight to the policy: no coroutine in between.
                row, item = pulled
                prepared = self._prepare(row, item, finite=finite)
                if isinstance(prepared, Outcome):
                    outcome = prepared
                else:
                    outcome = await policy.process(row, prepared)
                if self._streaming:
                    await self._emit(outcomes, outcome)

    async def _emit(self, outcomes: MemoryObjectSendStream[Outcome], outcome: Outcome) -> None:
        """Hand an outcome to the reader (already counted in the report either way)."""
        if not self._streaming:
            return
        try:
            # Without yielding to the loop when there is room; wait only when full.
            outcomes.send_nowait(outcome)
        except anyio.WouldBlock:
            await outcomes.send(outcome)

    async def _outcome(self, row: int, item: Any, *, finite: bool) -> Outcome:
        prepared = self._prepare(row, item, finite=finite)
        if isinstance(prepared, Outcome):
            return prepared
        return await self._policy.process(row, prepared)

    def _prepare(self, row: int, item: Any, *, finite: bool) -> PayoutRequest | Outcome:
        """The row's request to process, or its outcome already: a row that is not a
        payout (failed), or a row of a finite input once the batch stopped."""
        try:
            request = to_request(item)
        except ValidationError as exc:
            outcome = Outcome(
                row, OutcomeStatus.FAILED, None,
                error=ValidationError(exc.field, f"row {row}: {exc.reason}"),
            )
            self._builder.add(outcome)
            return outcome
        if finite and self._stop.stopped:
            return self._policy.not_attempted(row, request)
        return request

    # -- the claim feeder (a shared journal and a finite input) ------------------------------

    def _claims_rows(self) -> bool:
        """Claim in chunks when several workers share the journal and the input is
        finite; otherwise each row asks the journal for itself (``begin``)."""
        return self._journal is not None and self._journal.shared and self.total is not None

    async def _work_claimed(
        self,
        claimed: MemoryObjectReceiveStream[_Claimed],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        async with claimed, outcomes:
            async for row, request, claim in claimed:
                await self._emit(outcomes, await self._policy.process(row, request, claim))

    async def _feed_claims(
        self,
        claimed: MemoryObjectSendStream[_Claimed],
        outcomes: MemoryObjectSendStream[Outcome],
    ) -> None:
        """Claim the input's rows in chunks; hand granted rows to the workers; ask
        again for rows other workers hold until each is final or taken over."""
        held: dict[str, tuple[int, PayoutRequest]] = {}
        chunk: list[tuple[int, PayoutRequest]] = []
        base = size = max(8, min(self.concurrency, 256))
        async with claimed, outcomes:
            row = 0
            try:
                async for item in _iterate(self._requests):
                    row += 1
                    chunk.append((row, to_request(item)))  # validated whole by pre-flight
                    if len(chunk) >= size:
                        granted = await self._claim(chunk, held, claimed, outcomes)
                        # Past rows other workers took, look further ahead per statement.
                        size = base if granted else min(size * 2, _MAX_CLAIM_CHUNK)
                        chunk = []
            except Exception as exc:  # rows read so far still go out
                self._source_failed(exc)
            await self._claim(chunk, held, claimed, outcomes)
            while held and not self._stop.stopped:
                assert self._journal is not None
                await anyio.sleep(self._journal.poll_interval)
                waiting = sorted(held.values(), key=lambda item: item[0])
                held.clear()
                for start in range(0, len(waiting), base):
                    await self._claim(waiting[start:start + base], held, claimed, outcomes,
                                      again=True)
            for row, request in sorted(held.values(), key=lambda item: item[0]):
                await self._emit(outcomes, self._policy.not_attempted(row, request))

    async def _claim(
        self,
        rows: list[tuple[int, PayoutRequest]],
        held: dict[str, tuple[int, PayoutRequest]],
        claimed: MemoryObjectSendStream[_Claimed],
        outcomes: MemoryObjectSendStream[Outcome],
        *,
        again: bool = False,
    ) -> int:
        """Claim ``rows``: hand the granted to the workers, report the refused, and
        keep the held in ``held`` for the next round. Returns how many were granted."""
        if not rows:
            return 0
        assert self._journal is not None
        claims: list[Claim] = []
        journal_rows = [_journal_row(request) for _, request in rows]
        if not self._stop.stopped:
            try:
                claims = await self._journal.claim(journal_rows, self.run_id)
            except JournalError as exc:
                self._stop(f"the journal failed: {exc}", exc)
        if not claims:
            for row, request in rows:
                await self._emit(outcomes, self._policy.not_attempted(row, request))
            return 0
        for (row, request), journal_row, claim in zip(rows, journal_rows, claims, strict=True):
            if claim.status is ClaimStatus.GRANTED:
                await claimed.send((row, request, claim))
            elif claim.status is ClaimStatus.HELD:
                self.held_elsewhere += not again
                held[claim.reference_id] = (row, request)
            else:
                await self._emit(outcomes, self._policy.refused(
                    row, request, claim.entry, journal_row.fingerprint,
                    by_peer=claim.during_run,
                ))
        return sum(claim.status is ClaimStatus.GRANTED for claim in claims)

    def _source_failed(self, error: BaseException) -> None:
        # Rows already pulled are fine and still go out; the batch just ends early.
        if self._source_failure is None:
            reason = f"reading the requests failed: {describe_error(error)}"
            logger.warning("batch input ended early: %s", reason)
            self._source_failure = (reason, error)


def make_journal(
    journal: Journal | str | os.PathLike[str], label: str | None, schema: str = "ecartpay"
) -> Journal:
    """The journal the ``journal`` option names (:func:`.dsn.journal_kind`): a
    PostgreSQL DSN (the ``postgres`` extra; rows labelled ``label``, tables in
    ``schema``), a path for an :class:`SQLiteJournal`, or a journal object."""
    if not isinstance(journal, (str, os.PathLike)):
        return journal
    if journal_kind(journal) == "postgresql":
        try:
            from .postgres import PostgresJournal  # psycopg: loaded only when asked for
        except ImportError as exc:
            raise ImportError(
                "a postgresql:// journal needs the postgres extra: "
                "pip install 'ecartpay-async[postgres]'"
            ) from exc
        assert isinstance(journal, str)  # journal_kind: a path object is a file
        return PostgresJournal(journal, batch=label or "default", schema=schema)
    return SQLiteJournal(journal)


def _totals(requests: Iterable[Any]) -> dict[str, Decimal]:
    """What a validated input pays, per currency."""
    totals: dict[str, Decimal] = {}
    for item in requests:
        request = to_request(item)
        totals[request.currency] = totals.get(request.currency, Decimal(0)) + request.amount
    return totals


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


async def send_batch(
    payouts: PayoutSender, requests: Requests, **options: Unpack[BatchOptions]
) -> BatchReport:
    """Run a batch to its end and return its report (see :class:`Batch` for options)."""
    batch = Batch(payouts, requests, **options)
    batch._streaming = False
    async with batch:
        pass  # leaving the block waits for every row
    return batch.report
