"""``ecartpay-async payouts confirm --from FILE.csv``: release many pending payouts at once.

Rows name a payout by ``payout_id`` (or ``id``) or by ``reference_id``; the file a
batch was sent from works as it is. Exit codes: 0 every row confirmed, scheduled or
already paid; 1 some rows failed; 2 invalid input or options (nothing confirmed).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click

from ..batch.confirm import ConfirmOutcome, ConfirmStatus
from ..batch.report import describe_error
from .app import EXIT_FAILED, EXIT_INVALID, EXIT_OK, _console, _make_client, _run_api

__all__ = ["FIELDS", "confirm_from_file", "outcome_record"]

FIELDS: Final = (
    "row",
    "payout_id",
    "reference_id",
    "status",
    "payout_status",
    "amount",
    "currency",
    "error_type",
    "error",
)

_STYLES: Final = {
    str(ConfirmStatus.CONFIRMED): "green",
    str(ConfirmStatus.SCHEDULED): "cyan",
    str(ConfirmStatus.ALREADY_PAID): "dim",
    str(ConfirmStatus.FAILED): "red",
}


def outcome_record(outcome: ConfirmOutcome) -> dict[str, Any]:
    """An outcome as a flat record with :data:`FIELDS` (amounts as exact strings)."""
    ref, payout, error = outcome.ref, outcome.payout, outcome.error
    return {
        "row": outcome.row,
        "payout_id": payout.id if payout else (ref.payout_id or "") if ref else "",
        "reference_id": (payout.reference_id if payout else None)
        or (ref.reference_id if ref else None) or "",
        "status": str(outcome.status),
        "payout_status": str(payout.status) if payout else "",
        "amount": str(payout.amount) if payout else "",
        "currency": payout.currency if payout else "",
        "error_type": type(error).__name__ if error else "",
        "error": describe_error(error) if error else "",
    }


def confirm_from_file(
    file: Path,
    *,
    available_at: datetime | None,
    concurrency: int,
    report_path: Path | None,
    base_url: str | None,
    environment: str,
) -> int:
    """Run ``payouts confirm --from FILE``; return the exit code."""
    from ..batch import BatchValidationError
    from ..batch.confirm import RefCsv

    source = RefCsv(file)
    try:
        source.validate()
    except BatchValidationError as exc:
        click.echo(exc.message, err=True)
        return EXIT_INVALID
    out = _console()

    async def run() -> int:
        from .export import ReportWriter
        from .summary import print_problems, status_table

        client = _make_client(base_url, environment)
        if client is None:
            return EXIT_INVALID
        batch = client.payouts.confirm_batch(source, available_at, concurrency=concurrency)
        with contextlib.ExitStack() as files:
            writer = None
            if report_path is not None:
                try:
                    writer = files.enter_context(
                        ReportWriter(report_path, fields=FIELDS, record=outcome_record)
                    )
                except OSError as exc:
                    click.echo(f"--report: cannot write {report_path}: {exc.strerror}", err=True)
                    return EXIT_INVALID
            async with client, batch:
                async for outcome in batch:
                    if writer is not None:
                        writer.write(outcome)
        report = batch.report
        out.print(status_table(
            f"Confirmations from {file}",
            {str(s): n for s, n in report.counts.items()},
            {str(s): per for s, per in report.amounts.items()},
            _STYLES,
        ))
        print_problems(out, "Failures", report.failed, (
            f"  row {f.row} {f.reference_id or ''}: {f.reason}" for f in report.failures
        ))
        if report_path is not None:
            out.print(f"report written to {report_path}", highlight=False, soft_wrap=True)
        return EXIT_OK if report.ok else EXIT_FAILED

    return _run_api(run)
