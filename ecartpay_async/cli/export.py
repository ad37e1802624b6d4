"""Per-row report files: one line per input row, CSV or JSON Lines by extension.

Rows are listed in the input's order (``row`` gives the position): each is written as
soon as every row before it is, so the file holds only rows out of order, never the
whole batch. A run cut short (Ctrl-C, a stop) still lists every row it handled, in
order, at close. Amounts are written as exact decimal text; errors by their safe
message (SDK errors never carry a secret).

In a CSV report, text a spreadsheet would run as a formula (beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return: a reference_id such as
``=HYPERLINK(...)``) is written with a leading ``'``, as OWASP advises against CSV
injection (:func:`spreadsheet_safe`, the one home of this rule). Numbers (amounts,
negative ones included; counts) are not text and are written as they are; JSON
Lines reports keep every value raw.

A report that cannot be written is found out before the first payout where it can
be (the CSV header is flushed when the file opens); a write failing later is kept in
:attr:`ReportWriter.failure` instead of raised, so the command can stop the batch and
say so in one line.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from types import TracebackType
from typing import IO, Any, Final

from ..batch.outcome import Outcome
from ..batch.report import describe_error

__all__ = ["FIELDS", "ReportStopped", "ReportWriter", "spreadsheet_safe"]

FIELDS: Final = (
    "row",
    "reference_id",
    "email",
    "amount",
    "currency",
    "status",
    "payout_id",
    "payout_status",
    "attempts",
    "recovered",
    "error_type",
    "error",
)


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """An outcome as a flat record with :data:`FIELDS` (amounts as exact Decimals)."""
    request, payout, error = outcome.request, outcome.payout, outcome.error
    return {
        "row": outcome.row,
        "reference_id": outcome.reference_id or "",
        "email": (request.email or request.customer_id or "") if request else "",
        "amount": request.amount if request else "",
        "currency": request.currency if request else "",
        "status": str(outcome.status),
        "payout_id": payout.id if payout else "",
        "payout_status": str(payout.status) if payout else "",
        "attempts": outcome.attempts,
        "recovered": outcome.recovered,
        "error_type": type(error).__name__ if error else "",
        "error": describe_error(error) if error else "",
    }


#: How text that a spreadsheet reads as a formula begins (OWASP, CSV injection).
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell may hold it: text a spreadsheet would run as a formula
    gets a leading ``'``; numbers (a Decimal amount, ``-5.00`` too) and other values
    are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact text, as the CSV has it
    raise TypeError(f"cannot write {type(value).__name__} in a report")


class ReportStopped(Exception):
    """Raised by a command inside its run to stop it when its report cannot be written
    (leaving a worker pool by an exception cancels the rows in flight)."""


class ReportWriter:
    """``with ReportWriter("report.csv") as w: w.write(outcome)``; ``.jsonl``/``.json``
    (one JSON object a line) or anything else as CSV. Other per-row reports (a
    reconciliation, confirmations) pass their own ``fields`` and ``record`` function."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fields: Sequence[str] = FIELDS,
        record: Callable[[Any], dict[str, Any]] = outcome_record,
    ) -> None:
        self.path = os.fspath(path)
        self._fields = fields
        self._record = record
        self.json_lines = self.path.lower().endswith((".jsonl", ".ndjson", ".json"))
        self._file: IO[str] | None = None
        self._csv: Any = None
        #: The error that stopped the writing (then later rows are not written).
        self.failure: OSError | None = None
        self._next_row = 1  # the input row to list next
        self._waiting: dict[int, dict[str, Any]] = {}  # rows finished ahead of it
        #: Rows listed so far.
        self.rows = 0

    def __enter__(self) -> ReportWriter:
        """Open the file and write the CSV header through to it: a full disk, a
        directory or a file without permission raises OSError here, before any row."""
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        try:
            if not self.json_lines:
                self._csv = csv.DictWriter(self._file, fieldnames=self._fields)
                self._csv.writeheader()
            self._file.flush()
        except OSError:
            self._abandon()
            raise
        return self

    def write(self, item: Any) -> None:
        """List ``item`` (anything with a ``row``) once the rows before it are listed; a
        failure is kept in :attr:`failure` (see the module docstring)."""
        if self._file is None or self.failure is not None:
            return
        record = self._record(item)
        row = getattr(item, "row", None)
        if not isinstance(row, int) or row < self._next_row:
            self._put(record)  # no position, or one already passed: as it comes
            return
        self._waiting[row] = record
        while self._next_row in self._waiting and self.failure is None:
            self._put(self._waiting.pop(self._next_row))
            self._next_row += 1

    def _put(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            if self._csv is not None:
                self._csv.writerow({key: spreadsheet_safe(v) for key, v in record.items()})
            else:
                line = json.dumps(record, ensure_ascii=False, default=_json_value)
                self._file.write(line + "\n")
        except OSError as exc:
            self.failure = exc
            self._abandon()
            return
        self.rows += 1

    @property
    def problem(self) -> str | None:
        """The one line saying why the report is incomplete, or None."""
        if self.failure is None:
            return None
        reason = self.failure.strerror or type(self.failure).__name__
        return f"--report: cannot write {self.path}: {reason}"

    def _abandon(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            # The buffered rest cannot be written either: the failure says so.
            with contextlib.suppress(OSError):
                file.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Rows finished while an earlier one never did (a cut-short run): in order.
        for row in sorted(self._waiting):
            self._put(self._waiting[row])
        self._waiting.clear()
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as exc:
                if self.failure is None:
                    self.failure = exc
