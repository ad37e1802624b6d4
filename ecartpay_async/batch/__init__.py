"""Payout batches: a streaming engine, a crash-safe journal, CSV input, and the report.

Reached through ``client.payouts.batch(...)`` and ``client.payouts.send_batch(...)``;
the names here are for typing, for custom journals and for reading CSV files.
"""

from .engine import DEFAULT_MAX_RETRIES, Batch, PayoutSender, is_fatal, send_batch
from .journal import Journal, JournalEntry, JournalState, SQLiteJournal, fingerprint
from .limits import BreakerConfig
from .outcome import Outcome, OutcomeStatus
from .report import BatchReport, Failure
from .source import CsvSource, CsvSummary
from .validate import BatchValidationError, RowProblem

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "Batch",
    "BatchReport",
    "BatchValidationError",
    "BreakerConfig",
    "CsvSource",
    "CsvSummary",
    "Failure",
    "Journal",
    "JournalEntry",
    "JournalState",
    "Outcome",
    "OutcomeStatus",
    "PayoutSender",
    "RowProblem",
    "SQLiteJournal",
    "fingerprint",
    "is_fatal",
    "send_batch",
]
