"""Per-row report files: one line per input row, CSV or JSON Lines by extension.

Rows are listed in the input's order (``row`` gives the position): each is written as
soon as every row before it is, so the file holds only rows out of order, never the
whole batch. A run cut short (Ctrl-C, a stop) still lists every row it handled, in
order, at close. Amounts are written as exact decimal text; errors by their safe
message (SDK errors never carry a secret).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, Any, Final

from ..batch.outcome import Outcome
from ..batch.report import describe_error

__all__ = ["FIELDS", "ReportWriter"]

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
    """An outcome as a flat record with :data:`FIELDS` (amounts as strings)."""
    request, payout, error = outcome.request, outcome.payout, outcome.error
    return {
        "row": outcome.row,
        "reference_id": outcome.reference_id or "",
        "email": (request.email or request.customer_id or "") if request else "",
        "amount": str(request.amount) if request else "",
        "currency": request.currency if request else "",
        "status": str(outcome.status),
        "payout_id": payout.id if payout else "",
        "payout_status": str(payout.status) if payout else "",
        "attempts": outcome.attempts,
        "recovered": outcome.recovered,
        "error_type": type(error).__name__ if error else "",
        "error": describe_error(error) if error else "",
    }


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
        self._next_row = 1  # the input row to list next
        self._waiting: dict[int, dict[str, Any]] = {}  # rows finished ahead of it
        #: Rows listed so far.
        self.rows = 0

    def __enter__(self) -> ReportWriter:
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        if not self.json_lines:
            self._csv = csv.DictWriter(self._file, fieldnames=self._fields)
            self._csv.writeheader()
        return self

    def write(self, item: Any) -> None:
        """List ``item`` (anything with a ``row``) once the rows before it are listed."""
        record = self._record(item)
        row = getattr(item, "row", None)
        if not isinstance(row, int) or row < self._next_row:
            self._put(record)  # no position, or one already passed: as it comes
            return
        self._waiting[row] = record
        while self._next_row in self._waiting:
            self._put(self._waiting.pop(self._next_row))
            self._next_row += 1

    def _put(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        if self._csv is not None:
            self._csv.writerow(record)
        else:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.rows += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            # Rows finished while an earlier one never did (a cut-short run): in order.
            for row in sorted(self._waiting):
                self._put(self._waiting[row])
            self._waiting.clear()
            self._file.close()
            self._file = None
