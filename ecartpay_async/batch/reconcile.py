"""Reconciliation: each row of a batch checked against Ecart Pay's own records.

::

    async with client.payouts.reconcile(requests, concurrency=32, journal="payroll.db") as run:
        async for result in run:        # a ReconcileResult per row, in finishing order
            ...
    run.summary                          # counts and totals per status; .matched

Each row is looked up by its reference_id (through the client's pipeline, so with its
retries and its pause when the API asks for quiet) and classed:

* ``paid``: the payout exists, agrees with the row, and is paid;
* ``pending``: it exists and agrees, and waits for a confirmation or its date;
* ``failed``: it exists and agrees, and Ecart Pay reports it failed, canceled,
  rejected or refunded;
* ``mismatched``: a payout exists under this reference_id with another recipient,
  amount or currency (``differences`` says which field, expected and found);
* ``not_sent``: Ecart Pay has no payout with this reference_id;
* ``unknown``: the row could not be checked (``error`` says why: an unreadable row, a
  lookup that failed after its retries, or credentials the API refused).

With a journal, each row is also compared with what the journal recorded, and
``journal_issue`` says where they disagree: the journal says paid but Ecart Pay has
no such payout, the journal says not sent but the payout exists, the two name
different payouts, or the journal says paid and Ecart Pay does not. A row is
``matched`` when it is paid (or pending, if it asked for a confirmation) and the
journal, if any, agrees.

The journal is only read. A SQLite journal is opened for the run, so not while a
``payouts send`` holds it.
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

import anyio
import attrs
import httpx

from .._reprs import safe_repr
from ..errors import EcartPayError, JournalError, ValidationError
from ..models.payouts import Payout, PayoutRequest
from ..rules import PayoutFate, differences, fate_of, is_fatal
from .dsn import journal_kind
from .engine import DEFAULT_MAX_RETRIES, Requests, make_journal
from .journal import JournalEntry, JournalState
from .pool import WorkerPool
from .report import add_amount, describe_error, tallies_json
from .source import CsvSource
from .validate import to_request

__all__ = [
    "Difference",
    "JournalReader",
    "PayoutFinder",
    "ReconcileResult",
    "ReconcileStatus",
    "ReconcileSummary",
    "Reconciliation",
    "describe_result",
    "journal_issue",
]


class ReconcileStatus(str, enum.Enum):
    """What Ecart Pay holds for a row; see the module docstring."""

    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"
    MISMATCHED = "mismatched"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@safe_repr
@attrs.frozen(slots=True)
class Difference:
    """A field in which the payout found disagrees with the row."""

    field: str
    expected: object
    found: object

    def __str__(self) -> str:
        return f"{self.field}: expected {self.expected}, found {self.found}"


@safe_repr
@attrs.frozen(slots=True)
class ReconcileResult:
    """One row, checked. ``request`` is None only for a row that could not be read."""

    row: int
    status: ReconcileStatus
    request: PayoutRequest | None
    payout: Payout | None = None
    differences: tuple[Difference, ...] = ()
    journal: JournalEntry | None = None
    journal_issue: str | None = None
    error: BaseException | None = None

    @property
    def reference_id(self) -> str | None:
        return None if self.request is None else self.request.reference_id

    @property
    def matched(self) -> bool:
        """Paid (or pending when the row asked for a confirmation), journal agreeing."""
        if self.journal_issue is not None or self.request is None:
            return False
        if self.status is ReconcileStatus.PENDING:
            return self.request.require_confirmation
        return self.status is ReconcileStatus.PAID


@safe_repr
@attrs.frozen(slots=True)
class ReconcileSummary:
    """Rows and requested amounts per status and currency, and the journal's issues."""

    total: int
    counts: Mapping[ReconcileStatus, int]
    amounts: Mapping[ReconcileStatus, Mapping[str, Decimal]]
    unmatched: int
    journal_issues: int

    @property
    def matched(self) -> bool:
        """Every row matched (see :attr:`ReconcileResult.matched`)."""
        return self.unmatched == 0

    def count(self, status: ReconcileStatus | str) -> int:
        return self.counts.get(ReconcileStatus(status), 0)

    def totals(self, status: ReconcileStatus | str) -> Mapping[str, Decimal]:
        return self.amounts.get(ReconcileStatus(status), {})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view; amounts are strings so that no float creeps in."""
        return {
            "total": self.total,
            **tallies_json(self.counts, self.amounts),
            "unmatched": self.unmatched,
            "journal_issues": self.journal_issues,
        }


class _SummaryBuilder:
    def __init__(self) -> None:
        self.counts: dict[ReconcileStatus, int] = {}
        self.amounts: dict[ReconcileStatus, dict[str, Decimal]] = {}
        self.total = self.unmatched = self.journal_issues = 0

    def add(self, result: ReconcileResult) -> None:
        status = result.status
        self.total += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if result.request is not None:
            add_amount(self.amounts, status, result.request.currency, result.request.amount)
        self.unmatched += not result.matched
        self.journal_issues += result.journal_issue is not None

    def build(self) -> ReconcileSummary:
        ordered = [s for s in ReconcileStatus if s in self.counts]
        return ReconcileSummary(
            total=self.total,
            counts={s: self.counts[s] for s in ordered},
            amounts={s: dict(sorted(self.amounts[s].items())) for s in ordered
                     if s in self.amounts},
            unmatched=self.unmatched,
            journal_issues=self.journal_issues,
        )


class PayoutFinder(Protocol):
    """What reconciliation needs from ``client.payouts``."""

    async def find_by_reference(
        self,
        reference_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout | None: ...


@runtime_checkable
class JournalReader(Protocol):
    """A journal that can be read row by row (:class:`SQLiteJournal` is one)."""

    async def get(self, reference_id: str) -> JournalEntry | None: ...


class Reconciliation(WorkerPool[Any, ReconcileResult]):
    """A running reconciliation; build it with ``client.payouts.reconcile(...)``.

    Options: ``concurrency`` (lookups in flight), ``journal`` (the path of a SQLite
    journal, a PostgreSQL DSN with ``journal_schema``, or an open journal with
    ``get``), ``rate_limit`` (lookups started per
    second), ``max_retries`` and ``timeout`` (per lookup). Memory stays
    O(concurrency) whatever the number of rows. Leaving the ``async with`` block
    normally checks every remaining row; :attr:`summary` is final after it.
    """

    def __init__(
        self,
        payouts: PayoutFinder,
        requests: Requests,
        *,
        concurrency: int = 32,
        journal: JournalReader | str | os.PathLike[str] | None = None,
        rate_limit: float | None = None,
        max_retries: int | None = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout | None = None,
        journal_schema: str = "ecartpay",
    ) -> None:
        super().__init__(requests, self._check, concurrency=concurrency, rate_limit=rate_limit)
        self._payouts = payouts
        self._max_retries = max_retries
        self._timeout = timeout
        self._owned_journal: Any = None  # a journal this run opens and closes
        self._journal: JournalReader | None
        if isinstance(journal, (str, os.PathLike)):
            self._owned_journal = _open_reader(journal, journal_schema)
            self._journal = self._owned_journal
        else:
            self._journal = journal
        self._builder = _SummaryBuilder()
        self._fatal: BaseException | None = None

    @property
    def summary(self) -> ReconcileSummary:
        """The rows checked so far (all of them once the ``async with`` block is left)."""
        return self._builder.build()

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[Reconciliation]:
        if isinstance(self._items, CsvSource):
            # It checks itself whole before the first row (reading the file: off the loop).
            await anyio.to_thread.run_sync(self._items.validate)
        async with contextlib.AsyncExitStack() as stack:
            if self._owned_journal is not None:
                await stack.enter_async_context(self._owned_journal)
            async with super().__asynccontextmanager__():
                yield self

    async def _check(self, row: int, item: object) -> ReconcileResult:
        result = await self._classify(row, item)
        self._builder.add(result)
        return result

    async def _classify(self, row: int, item: object) -> ReconcileResult:
        try:
            request = to_request(item)
        except ValidationError as exc:
            error = ValidationError(exc.field, f"row {row}: {exc.reason}")
            return ReconcileResult(row, ReconcileStatus.UNKNOWN, None, error=error)
        if self._fatal is not None:
            # Credentials the API refused fail every lookup: do not ask again per row.
            return ReconcileResult(row, ReconcileStatus.UNKNOWN, request, error=self._fatal)
        reference_id = request.reference_id
        assert reference_id is not None  # to_request makes sure of it
        entry = None
        try:
            if self._journal is not None:
                entry = await self._journal.get(reference_id)
            payout = await self._payouts.find_by_reference(
                reference_id, max_retries=self._max_retries, timeout=self._timeout
            )
        except EcartPayError as exc:
            if is_fatal(exc):
                self._fatal = exc
            return ReconcileResult(
                row, ReconcileStatus.UNKNOWN, request, journal=entry, error=exc
            )
        found = tuple(Difference(*d) for d in differences(request, payout)) if payout else ()
        return ReconcileResult(
            row,
            _status(payout, found),
            request,
            payout=payout,
            differences=found,
            journal=entry,
            journal_issue=None if self._journal is None else journal_issue(entry, payout),
        )


def _open_reader(journal: str | os.PathLike[str], schema: str) -> Any:
    """The journal a ``journal`` string names (:func:`.dsn.journal_kind`), to be read."""
    try:
        if journal_kind(journal) == "sqlite" and not os.path.isfile(journal):
            raise JournalError(f"no journal at {os.fspath(journal)}")
        return make_journal(journal, None, schema)
    except (ValueError, ImportError) as exc:  # another scheme; no postgres extra
        raise JournalError(str(exc)) from None


def _status(payout: Payout | None, found: tuple[Difference, ...]) -> ReconcileStatus:
    if payout is None:
        return ReconcileStatus.NOT_SENT
    if found:
        return ReconcileStatus.MISMATCHED
    return _BY_FATE[fate_of(payout)]


_BY_FATE: Final = {
    PayoutFate.PAID: ReconcileStatus.PAID,
    PayoutFate.FAILED: ReconcileStatus.FAILED,
    PayoutFate.WAITING: ReconcileStatus.PENDING,
}


def journal_issue(entry: JournalEntry | None, payout: Payout | None) -> str | None:
    """Where the journal's record of a row and Ecart Pay's disagree, or None.

    A row left ``sending`` claims nothing either way (the run was interrupted; the
    next one settles it by lookup), and a ``pending_confirmation`` row that Ecart Pay
    now reports paid was simply confirmed since.
    """
    if entry is None:
        if payout is None:
            return None
        return f"the journal has no record of this row, but Ecart Pay has payout {payout.id}"
    state = entry.state
    if payout is None:
        if entry.done:
            return (
                f"the journal says {state} (payout {entry.payout_id or '?'}), but Ecart Pay "
                "has no payout with this reference_id"
            )
        return None
    if state is JournalState.PENDING or (state is JournalState.FAILED and not entry.payout_id):
        return (
            f"the journal says not sent ({state}), but Ecart Pay has payout {payout.id} "
            f"({payout.status})"
        )
    if entry.payout_id and entry.payout_id != payout.id:
        return f"the journal records payout {entry.payout_id}, Ecart Pay has {payout.id}"
    if state is JournalState.PAID and not payout.is_paid:
        return f"the journal says paid, Ecart Pay says {payout.status}"
    return None


def describe_result(result: ReconcileResult) -> str:
    """One line on what is wrong with a row (empty when it matched)."""
    parts = [str(d) for d in result.differences]
    if result.journal_issue:
        parts.append(result.journal_issue)
    if result.error is not None:
        parts.append(describe_error(result.error))
    return "; ".join(parts)
