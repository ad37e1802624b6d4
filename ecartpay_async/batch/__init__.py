"""Payout batches: a streaming engine, a crash-safe journal, CSV input, and the report.

Reached through ``client.payouts.batch(...)`` and ``client.payouts.send_batch(...)``;
the names here are for typing, for custom journals and for reading CSV files.
:class:`PostgresJournal` (the ``postgres`` extra) is imported on first use.
"""

from typing import TYPE_CHECKING, Any

from .engine import DEFAULT_MAX_RETRIES, Batch, PayoutSender, is_fatal, send_batch
from .journal import (
    Claim,
    ClaimStatus,
    Journal,
    JournalEntry,
    JournalRow,
    JournalState,
    SQLiteJournal,
    fingerprint,
)
from .limits import BreakerConfig
from .outcome import Outcome, OutcomeStatus
from .report import BatchReport, Failure
from .source import CsvSource, CsvSummary
from .validate import BatchValidationError, RowProblem

if TYPE_CHECKING:
    from .postgres import PostgresJournal

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "Batch",
    "BatchReport",
    "BatchValidationError",
    "BreakerConfig",
    "Claim",
    "ClaimStatus",
    "CsvSource",
    "CsvSummary",
    "Failure",
    "Journal",
    "JournalEntry",
    "JournalRow",
    "JournalState",
    "Outcome",
    "OutcomeStatus",
    "PayoutSender",
    "PostgresJournal",
    "RowProblem",
    "SQLiteJournal",
    "fingerprint",
    "is_fatal",
    "send_batch",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresJournal":  # psycopg comes with the postgres extra: load it late
        from .postgres import PostgresJournal

        return PostgresJournal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
