"""``ecartpay-async payouts reconcile FILE.csv``: every row checked against Ecart Pay.

Exit codes: 0 every row matched (paid, or pending when it asked for a confirmation,
and the journal agreeing), 1 some did not, 2 invalid input or options.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Final

import click

from ..batch.reconcile import ReconcileResult, ReconcileStatus, describe_result
from ..batch.report import describe_error
from ._params import checked_journal, non_empty, shown_journal
from .app import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    _connection_options,
    _console,
    _make_client,
    _run_api,
    payouts,
)
from .csv_options import csv_format_options, csv_source
from .wording import counted, say_error

__all__ = ["FIELDS", "reconcile_command", "result_record"]

FIELDS: Final = (
    "row",
    "reference_id",
    "email",
    "amount",
    "currency",
    "status",
    "matched",
    "payout_id",
    "payout_status",
    "differences",
    "journal_state",
    "journal_payout_id",
    "journal_issue",
    "error",
)

_STYLES: Final = {
    str(ReconcileStatus.PAID): "green",
    str(ReconcileStatus.PENDING): "cyan",
    str(ReconcileStatus.FAILED): "red",
    str(ReconcileStatus.MISMATCHED): "bold red",
    str(ReconcileStatus.NOT_SENT): "yellow",
    str(ReconcileStatus.UNKNOWN): "magenta",
}


def result_record(result: ReconcileResult) -> dict[str, Any]:
    """A result as a flat record with :data:`FIELDS` (amounts as exact Decimals)."""
    request, payout, entry = result.request, result.payout, result.journal
    return {
        "row": result.row,
        "reference_id": result.reference_id or "",
        "email": (request.email or request.customer_id or "") if request else "",
        "amount": request.amount if request else "",
        "currency": request.currency if request else "",
        "status": str(result.status),
        "matched": result.matched,
        "payout_id": payout.id if payout else "",
        "payout_status": str(payout.status) if payout else "",
        "differences": "; ".join(str(d) for d in result.differences),
        "journal_state": str(entry.state) if entry else "",
        "journal_payout_id": (entry.payout_id or "") if entry else "",
        "journal_issue": result.journal_issue or "",
        "error": describe_error(result.error) if result.error else "",
    }


@payouts.command("reconcile")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--journal", metavar="PATH|DSN", callback=checked_journal,
              help="The run's journal (a SQLite file, or postgresql://...): also report "
                   "where it and Ecart Pay disagree.")
@click.option("--schema", default="ecartpay", show_default=True, callback=non_empty,
              help="The PostgreSQL schema holding the journal.")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write one line per row: .csv, or .jsonl for JSON Lines.")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="Lookups in flight at most.")
@csv_format_options
@_connection_options
def reconcile_command(
    file: Path,
    journal: str | None,
    schema: str,
    report_path: Path | None,
    concurrency: int,
    decimal_separator: str | None,
    delimiter: str | None,
    columns: dict[str, str],
    base_url: str | None,
    environment: str,
) -> None:
    """Check every row of FILE.csv against Ecart Pay: paid as expected, pending, not
    sent, failed or mismatched (exit 0 when every row matches, 1 otherwise)."""
    from ..batch import BatchValidationError
    from ..errors import JournalError

    source = csv_source(file, decimal_separator, delimiter, columns)
    try:
        rows = source.validate().rows
    except BatchValidationError as exc:
        say_error(exc.message)
        sys.exit(EXIT_INVALID)
    out = _console()
    _console(stderr=True).print(f"checking {counted(rows, 'row')} of {file} against Ecart Pay...",
                                highlight=False, soft_wrap=True, markup=False)

    async def run() -> int:
        from .export import ReportStopped, ReportWriter
        from .summary import LISTED, print_problems, print_status_table

        client = _make_client(base_url, environment)
        if client is None:
            return EXIT_INVALID
        problems: list[str] = []
        async with client:
            try:
                reconciliation = client.payouts.reconcile(
                    source, concurrency=concurrency, journal=journal, journal_schema=schema
                )
            except JournalError as exc:
                say_error(f"--journal: {exc.message}")
                return EXIT_INVALID
            with contextlib.ExitStack() as files:
                writer = None
                if report_path is not None:
                    try:
                        writer = files.enter_context(
                            ReportWriter(report_path, fields=FIELDS, record=result_record)
                        )
                    except OSError as exc:
                        say_error(f"--report: cannot write {report_path}: {exc.strerror}")
                        return EXIT_INVALID
                try:
                    async with reconciliation as results:
                        async for result in results:
                            if writer is not None:
                                writer.write(result)
                                if writer.failure is not None:
                                    raise ReportStopped  # the lookups stop with the report
                            if not result.matched and len(problems) < LISTED:
                                problems.append(_problem_line(result))
                except JournalError as exc:
                    say_error(f"--journal: {exc.message}")
                    return EXIT_INVALID
                except ReportStopped:
                    pass  # said below
        if writer is not None and writer.problem is not None:
            say_error(writer.problem)
            return EXIT_INVALID
        summary = reconciliation.summary
        print_status_table(
            out,
            f"Reconciliation of {file}",
            {str(s): n for s, n in summary.counts.items()},
            {str(s): per for s, per in summary.amounts.items()},
            _STYLES,
        )
        if journal is not None:
            issues = summary.journal_issues
            verdict = (
                f"{issues:,} {'row disagrees' if issues == 1 else 'rows disagree'} with Ecart Pay"
                if issues else "agrees with Ecart Pay on every row"
            )
            out.print(f"journal {shown_journal(journal)}: {verdict}", highlight=False,
                      soft_wrap=True, markup=False)
        print_problems(out, "Rows that do not match", summary.unmatched, problems)
        if report_path is not None:
            out.print(f"report written to {report_path}", highlight=False, soft_wrap=True,
                      markup=False)
        if summary.matched:
            out.print(f"all {summary.total:,} row{'' if summary.total == 1 else 's'} match",
                      highlight=False)
            return EXIT_OK
        return EXIT_FAILED

    sys.exit(_run_api(run))


def _problem_line(result: ReconcileResult) -> str:
    detail = describe_result(result)
    if not detail and result.status is ReconcileStatus.PENDING:
        detail = "pending, but the row did not ask for a confirmation"
    return f"  row {result.row} {result.reference_id or ''}: {result.status}" + (
        f": {detail}" if detail else ""
    )
