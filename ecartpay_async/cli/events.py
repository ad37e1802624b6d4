"""``payouts send --log-format json``: one JSON object per line on stderr, for log pipelines.

Each finished row is ``{"event": "payout", "run_id", "row", "reference_id", "status",
"attempts", "latency_ms", "payout_id", "error_type", "error", "time"}``; the end of
the run is ``{"event": "batch", "run_id", "total", "counts", "duration_s", "aborted"}``.
``run_id`` ties the lines of one run together. Errors are the SDK's safe messages
with email addresses masked; no amount, email or key is written. Anything else the
command says on stderr (a refused file, a stop, an interruption) becomes
``{"event": "message", "run_id", "message", "time"}`` (:class:`MessagesAsJson`), so
stderr stays pure JSON lines.
"""

from __future__ import annotations

import io
import json
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any, TextIO

from .._logging import mask_emails
from ..batch.report import describe_error

if TYPE_CHECKING:
    from ..batch import BatchReport, Outcome

__all__ = ["MessagesAsJson", "RowEvents", "json_line"]


def json_line(run_id: str, fields: dict[str, Any]) -> str:
    """One record: its time (UTC, milliseconds), the run, the fields; newline-ended."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e3):03d}Z"
    return json.dumps({"time": stamp, "run_id": run_id, **fields}, ensure_ascii=False) + "\n"


class MessagesAsJson(io.TextIOBase):
    """stderr while ``--log-format json`` runs: a line that is already a JSON object
    passes as it is; any other line becomes a ``message`` record of the same run."""

    def __init__(self, stream: TextIO, run_id: str | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.run_id = run_id or uuid.uuid4().hex
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = ""
        self.stream.flush()
        super().close()

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        try:
            is_record = isinstance(json.loads(line), dict)
        except ValueError:
            is_record = False
        self.stream.write(line + "\n" if is_record else json_line(
            self.run_id, {"event": "message", "message": mask_emails(line.strip())}))


class RowEvents:
    """Takes the place of the progress display: ``with RowEvents() as e: e.add(outcome)``."""

    def __init__(self, stream: TextIO | None = None, run_id: str | None = None) -> None:
        self.stream = stream or sys.stderr
        self.run_id = run_id or uuid.uuid4().hex

    def __enter__(self) -> RowEvents:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stream.flush()

    def add(self, outcome: Outcome) -> None:
        error = outcome.error
        self._write({
            "event": "payout",
            "row": outcome.row,
            "reference_id": outcome.reference_id,
            "status": str(outcome.status),
            "attempts": outcome.attempts,
            "latency_ms": None if outcome.latency is None else round(outcome.latency * 1e3, 1),
            "payout_id": outcome.payout.id if outcome.payout else None,
            "error_type": type(error).__name__ if error else None,
            "error": mask_emails(describe_error(error)) if error else None,
        })

    def finish(self, report: BatchReport) -> None:
        self._write({
            "event": "batch",
            "total": report.total,
            "counts": {str(s): n for s, n in report.counts.items()},
            "duration_s": round(report.duration, 3),
            "aborted": report.aborted,
        })

    def _write(self, fields: dict[str, Any]) -> None:
        self.stream.write(json_line(self.run_id, fields))
