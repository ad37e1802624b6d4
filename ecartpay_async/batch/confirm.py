"""Bulk confirmation: release many pending payouts at once, each exactly once in effect.

::

    async with client.payouts.confirm_batch(refs, concurrency=32) as batch:
        async for outcome in batch:     # a ConfirmOutcome per row, in finishing order
            ...
    batch.report                        # counts and totals per status, failures

A row names its payout by id or by the reference_id it was sent with (a
:class:`PayoutRef`, a plain string for an id, a mapping with ``payout_id``/``id`` or
``reference_id``, a :class:`Payout` or a :class:`PayoutRequest`). A row by
reference_id is looked up first; a row by id is confirmed straight away. Each
confirmation goes through ``client.payouts.confirm`` (its retries, and its check of
the payout when a retried confirmation is refused) and the client's pipeline (its
pause when the API asks for quiet).

Statuses: ``confirmed`` (paid now), ``scheduled`` (pending until ``available_at``),
``already_paid`` (paid before this run: done, not a failure), ``failed`` (not found,
canceled or refused; ``error`` says why). Credentials the API refuses fail every
remaining row without another request.

:class:`RefCsv` reads the rows from a CSV file with a ``payout_id`` (or ``id``) or a
``reference_id`` column, such as the file a batch was sent from.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol, TypeAlias

import anyio
import attrs
import httpx

from .._reprs import safe_repr
from ..errors import APIStatusError, EcartPayError, ValidationError
from ..models.common import check_text
from ..models.payouts import Payout, PayoutRequest
from ..resources.payouts import CONFIRM_REFUSALS, is_confirmed
from ..rules import is_fatal
from .engine import DEFAULT_MAX_RETRIES
from .pool import WorkerPool
from .report import MAX_FAILURES, Failure, add_amount, describe_error, tallies_json
from .source import normalize_header
from .validate import BatchValidationError, ProblemList, RowProblem

__all__ = [
    "ConfirmBatch",
    "ConfirmOutcome",
    "ConfirmReport",
    "ConfirmStatus",
    "PayoutConfirmer",
    "PayoutRef",
    "PayoutRefs",
    "RefCsv",
    "to_ref",
]

_ID_COLUMNS: Final = ("payout_id", "id")


@safe_repr
@attrs.frozen(slots=True)
class PayoutRef:
    """A payout named by its id or by its reference_id (the id wins if both are given)."""

    payout_id: str | None = None
    reference_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.payout_id is None and self.reference_id is None:
            raise ValidationError("payout_id", "give a payout_id or a reference_id")
        for name in ("payout_id", "reference_id"):
            value = getattr(self, name)
            if value is not None:
                check_text(value, field=name)

    def __str__(self) -> str:
        return self.payout_id or f"reference_id={self.reference_id}"


PayoutRefs: TypeAlias = "Iterable[PayoutRef | str | Any] | AsyncIterable[PayoutRef | str | Any]"


def to_ref(item: object) -> PayoutRef:
    """A row as a :class:`PayoutRef`; see the module docstring for what a row may be."""
    if isinstance(item, PayoutRef):
        return item
    if isinstance(item, str):
        return PayoutRef(payout_id=item.strip())
    if isinstance(item, Payout):
        return PayoutRef(payout_id=item.id, reference_id=item.reference_id)
    if isinstance(item, PayoutRequest):
        return PayoutRef(reference_id=item.reference_id)
    if isinstance(item, Mapping):
        payout_id = next((item[k] for k in _ID_COLUMNS if item.get(k)), None)
        return PayoutRef(payout_id=payout_id, reference_id=item.get("reference_id") or None)
    kind = type(item).__name__
    raise ValidationError("row", f"expected a payout id, a PayoutRef or a mapping, got {kind}")


class ConfirmStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    SCHEDULED = "scheduled"
    ALREADY_PAID = "already_paid"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@safe_repr
@attrs.frozen(slots=True)
class ConfirmOutcome:
    """One row: ``ref`` is None only for a row that could not be read."""

    row: int
    status: ConfirmStatus
    ref: PayoutRef | None
    payout: Payout | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Confirmed, scheduled, or paid already: nothing left to do for this row."""
        return self.status is not ConfirmStatus.FAILED


@safe_repr
@attrs.frozen(slots=True)
class ConfirmReport:
    """Rows per status, the payouts' amounts per status and currency, the failures."""

    total: int
    counts: Mapping[ConfirmStatus, int]
    amounts: Mapping[ConfirmStatus, Mapping[str, Decimal]]
    failures: tuple[Failure, ...]

    def count(self, status: ConfirmStatus | str) -> int:
        return self.counts.get(ConfirmStatus(status), 0)

    def totals(self, status: ConfirmStatus | str) -> Mapping[str, Decimal]:
        return self.amounts.get(ConfirmStatus(status), {})

    @property
    def failed(self) -> int:
        return self.count(ConfirmStatus.FAILED)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view; amounts are strings so that no float creeps in."""
        return {
            "total": self.total,
            **tallies_json(self.counts, self.amounts),
            "failures": [attrs.asdict(f) for f in self.failures],
        }


class _ReportBuilder:
    def __init__(self) -> None:
        self.counts: dict[ConfirmStatus, int] = {}
        self.amounts: dict[ConfirmStatus, dict[str, Decimal]] = {}
        self.failures: list[Failure] = []
        self.total = 0

    def add(self, outcome: ConfirmOutcome) -> None:
        status = outcome.status
        self.total += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if outcome.payout is not None:
            add_amount(self.amounts, status, outcome.payout.currency, outcome.payout.amount)
        if status is ConfirmStatus.FAILED and len(self.failures) < MAX_FAILURES:
            error = outcome.error
            self.failures.append(Failure(
                row=outcome.row,
                reference_id=outcome.ref.reference_id if outcome.ref else None,
                error_type=type(error).__name__ if error else "",
                reason=describe_error(error) if error else "",
                status_code=error.status_code if isinstance(error, APIStatusError) else None,
            ))

    def build(self) -> ConfirmReport:
        ordered = [s for s in ConfirmStatus if s in self.counts]
        return ConfirmReport(
            total=self.total,
            counts={s: self.counts[s] for s in ordered},
            amounts={s: dict(sorted(self.amounts[s].items())) for s in ordered
                     if s in self.amounts},
            failures=tuple(sorted(self.failures, key=lambda f: f.row)),
        )


class PayoutConfirmer(Protocol):
    """What bulk confirmation needs from ``client.payouts``."""

    async def find_by_reference(
        self, reference_id: str, *, max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout | None: ...

    async def retrieve(
        self, payout_id: str, *, max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Payout: ...

    async def confirm(
        self, payout_id: str, available_at: datetime | None = None, *,
        max_retries: int | None = None, timeout: float | httpx.Timeout | None = None,
    ) -> Payout: ...


class ConfirmBatch(WorkerPool[Any, ConfirmOutcome]):
    """Running confirmations; build it with ``client.payouts.confirm_batch(...)``.

    Options: ``concurrency`` (confirmations in flight), ``rate_limit`` (rows started
    per second), ``max_retries`` and ``timeout`` (per request). Leaving the ``async
    with`` block normally confirms every remaining row; :attr:`report` is final then.
    """

    def __init__(
        self,
        payouts: PayoutConfirmer,
        refs: PayoutRefs,
        available_at: datetime | None = None,
        *,
        concurrency: int = 32,
        rate_limit: float | None = None,
        max_retries: int | None = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        if available_at is not None and (
            not isinstance(available_at, datetime) or available_at.tzinfo is None
        ):
            raise ValidationError("available_at", "must be a timezone-aware datetime")
        super().__init__(refs, self._confirm_row, concurrency=concurrency, rate_limit=rate_limit)
        self._payouts = payouts
        self._available_at = available_at
        self._max_retries = max_retries
        self._timeout = timeout
        self._builder = _ReportBuilder()
        self._fatal: BaseException | None = None

    @property
    def report(self) -> ConfirmReport:
        """The rows done so far (all of them once the ``async with`` block is left)."""
        return self._builder.build()

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[ConfirmBatch]:
        if isinstance(self._items, RefCsv):
            # It checks itself whole before the first row (reading the file: off the loop).
            await anyio.to_thread.run_sync(self._items.validate)
        async with super().__asynccontextmanager__():
            yield self

    async def _confirm_row(self, row: int, item: object) -> ConfirmOutcome:
        outcome = await self._outcome(row, item)
        self._builder.add(outcome)
        return outcome

    async def _outcome(self, row: int, item: object) -> ConfirmOutcome:
        try:
            ref = to_ref(item)
        except ValidationError as exc:
            error = ValidationError(exc.field, f"row {row}: {exc.reason}")
            return ConfirmOutcome(row, ConfirmStatus.FAILED, None, error=error)
        if self._fatal is not None:
            return ConfirmOutcome(row, ConfirmStatus.FAILED, ref, error=self._fatal)
        try:
            return await self._confirm(row, ref)
        except EcartPayError as exc:
            if is_fatal(exc):
                self._fatal = exc
            return ConfirmOutcome(row, ConfirmStatus.FAILED, ref, error=exc)

    async def _confirm(self, row: int, ref: PayoutRef) -> ConfirmOutcome:
        options: dict[str, Any] = {"max_retries": self._max_retries, "timeout": self._timeout}
        payout_id = ref.payout_id
        if payout_id is None:
            assert ref.reference_id is not None
            found = await self._payouts.find_by_reference(ref.reference_id, **options)
            if found is None:
                error = ValidationError(
                    "reference_id", f"no payout has reference_id {ref.reference_id!r}"
                )
                return ConfirmOutcome(row, ConfirmStatus.FAILED, ref, error=error)
            if not found.is_pending:
                return self._settled(row, ref, found)
            payout_id = found.id
        try:
            payout = await self._payouts.confirm(payout_id, self._available_at, **options)
        except APIStatusError as exc:
            # Refused: most often because it is no longer pending (paid by an earlier
            # run, or canceled). The payout's state says which.
            if exc.status_code not in CONFIRM_REFUSALS:
                raise
            current = await self._payouts.retrieve(payout_id, **options)
            if is_confirmed(current, self._available_at) or not current.is_pending:
                return self._settled(row, ref, current)
            raise
        status = ConfirmStatus.CONFIRMED if payout.is_paid else ConfirmStatus.SCHEDULED
        return ConfirmOutcome(row, status, ref, payout=payout)

    def _settled(self, row: int, ref: PayoutRef, payout: Payout) -> ConfirmOutcome:
        """The outcome for a payout that was no longer waiting for this confirmation."""
        if payout.is_paid:
            return ConfirmOutcome(row, ConfirmStatus.ALREADY_PAID, ref, payout=payout)
        if payout.is_pending:  # scheduled for this very date already
            return ConfirmOutcome(row, ConfirmStatus.SCHEDULED, ref, payout=payout)
        error = ValidationError(
            "payout_id", f"payout {payout.id} is {payout.status}; it cannot be confirmed"
        )
        return ConfirmOutcome(row, ConfirmStatus.FAILED, ref, payout=payout, error=error)


@safe_repr
class RefCsv:
    """Confirmation rows from a CSV file, checked whole before anything is sent.

    The header needs a ``payout_id`` (or ``id``) column, a ``reference_id`` column, or
    both; each row needs one of them filled. Other columns are ignored, so the file a
    batch was sent from works as it is. ``len()`` and iteration validate the file
    first and raise :class:`BatchValidationError` listing every bad row by line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._rows: int | None = None

    def __repr__(self) -> str:
        return f"RefCsv({self.path!r})"

    def __len__(self) -> int:
        return self.validate()

    def validate(self) -> int:
        """Check every row; return the row count or raise with every problem."""
        if self._rows is not None:
            return self._rows
        problems = ProblemList(self.path)
        rows = 0
        try:
            for _, ref in self._parse(problems):
                rows += ref is not None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.add(RowProblem(0, "file", f"cannot be read as UTF-8 CSV: {exc}"))
        if not problems and rows == 0:
            problems.add(RowProblem(0, "file", "has no rows", line=1))
        problems.raise_if_any()
        self._rows = rows
        return rows

    def __iter__(self) -> Iterator[PayoutRef]:
        self.validate()
        problems = ProblemList(self.path)
        for _, ref in self._parse(problems):
            if ref is None:  # only if the file changed since it was validated
                raise BatchValidationError(problems.problems, source=self.path)
            yield ref

    def _parse(self, problems: ProblemList) -> Iterator[tuple[int, PayoutRef | None]]:
        with open(self.path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            names = [normalize_header(name) for name in header or []]
            id_column = next((names.index(c) for c in _ID_COLUMNS if c in names), None)
            ref_column = names.index("reference_id") if "reference_id" in names else None
            if id_column is None and ref_column is None:
                problems.add(RowProblem(0, "header", "needs a payout_id or reference_id column",
                                        1))
                return
            row = 0
            for fields in reader:
                if not any(field.strip() for field in fields):
                    continue
                row += 1
                data = {
                    "payout_id": _field(fields, id_column),
                    "reference_id": _field(fields, ref_column),
                }
                try:
                    yield reader.line_num, to_ref(data)
                except ValidationError:
                    problems.add(RowProblem(
                        row, "row", "has neither a payout_id nor a reference_id",
                        reader.line_num,
                    ))
                    yield reader.line_num, None


def _field(fields: list[str], index: int | None) -> str | None:
    if index is None or index >= len(fields):
        return None
    return fields[index].strip() or None
