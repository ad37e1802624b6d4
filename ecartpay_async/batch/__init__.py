"""Payout batches: a streaming engine, a crash-safe journal, CSV input, and the report.

Reached through ``client.payouts.batch(...)`` and ``client.payouts.send_batch(...)``;
the names here are for typing, for custom journals and for reading CSV files. They
load on first use, so that building a client does not import the engine.

Rooms: :mod:`.payouts` (``client.payouts``, which starts batches), :mod:`.engine`
(lifetime, feeder, workers), :mod:`.rows` (what happens to one row),
:mod:`.journal` (the journal interface and the SQLite journal), :mod:`.limits`
(rate limit, AIMD concurrency, breaker), :mod:`.source` (CSV input), :mod:`.validate`
(rows to requests), :mod:`.report` and :mod:`.outcome` (what a batch says);
:mod:`.postgres` (the ``postgres`` extra) the journal several hosts share. Around
the batch: :mod:`.reconcile` (each row checked against Ecart Pay and the journal) and
:mod:`.confirm` (pending payouts released in bulk), both on :mod:`.pool`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rules import fingerprint, is_fatal
    from .confirm import (
        ConfirmBatch,
        ConfirmOutcome,
        ConfirmReport,
        ConfirmStatus,
        PayoutRef,
        RefCsv,
    )
    from .engine import DEFAULT_MAX_RETRIES, Batch, send_batch
    from .journal import (
        Claim,
        ClaimStatus,
        Journal,
        JournalEntry,
        JournalRow,
        JournalState,
        SQLiteJournal,
    )
    from .limits import BreakerConfig
    from .outcome import Outcome, OutcomeStatus
    from .postgres import PostgresJournal
    from .reconcile import ReconcileResult, ReconcileStatus, ReconcileSummary, Reconciliation
    from .report import BatchReport, Failure
    from .rows import PayoutSender
    from .source import CsvSource, CsvSummary
    from .validate import BatchValidationError, RowProblem

_HOMES = {
    "DEFAULT_MAX_RETRIES": ".engine",
    "Batch": ".engine",
    "BatchReport": ".report",
    "BatchValidationError": ".validate",
    "BreakerConfig": ".limits",
    "Claim": ".journal",
    "ClaimStatus": ".journal",
    "ConfirmBatch": ".confirm",
    "ConfirmOutcome": ".confirm",
    "ConfirmReport": ".confirm",
    "ConfirmStatus": ".confirm",
    "CsvSource": ".source",
    "CsvSummary": ".source",
    "Failure": ".report",
    "Journal": ".journal",
    "JournalEntry": ".journal",
    "JournalRow": ".journal",
    "JournalState": ".journal",
    "Outcome": ".outcome",
    "OutcomeStatus": ".outcome",
    "PayoutRef": ".confirm",
    "PayoutSender": ".rows",
    "PostgresJournal": ".postgres",  # the postgres extra (psycopg)
    "ReconcileResult": ".reconcile",
    "ReconcileStatus": ".reconcile",
    "ReconcileSummary": ".reconcile",
    "Reconciliation": ".reconcile",
    "RefCsv": ".confirm",
    "RowProblem": ".validate",
    "SQLiteJournal": ".journal",
    "fingerprint": "..rules",
    "is_fatal": "..rules",
    "send_batch": ".engine",
}

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "Batch",
    "BatchReport",
    "BatchValidationError",
    "BreakerConfig",
    "Claim",
    "ClaimStatus",
    "ConfirmBatch",
    "ConfirmOutcome",
    "ConfirmReport",
    "ConfirmStatus",
    "CsvSource",
    "CsvSummary",
    "Failure",
    "Journal",
    "JournalEntry",
    "JournalRow",
    "JournalState",
    "Outcome",
    "OutcomeStatus",
    "PayoutRef",
    "PayoutSender",
    "PostgresJournal",
    "ReconcileResult",
    "ReconcileStatus",
    "ReconcileSummary",
    "Reconciliation",
    "RefCsv",
    "RowProblem",
    "SQLiteJournal",
    "fingerprint",
    "is_fatal",
    "send_batch",
]


def __getattr__(name: str) -> Any:
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
