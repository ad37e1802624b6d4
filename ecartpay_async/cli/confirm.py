"""``ecartpay-async payouts confirm``: release one pending payout, or every row of a file.

``payouts confirm ID`` confirms one payout and shows it. ``payouts confirm --from
FILE.csv`` confirms many at once (:mod:`ecartpay_async.batch.confirm`): rows name a
payout by ``payout_id`` (or ``id``) or by ``reference_id``, so the file a batch was
sent from works as it is. Exit codes of ``--from``: 0 every row confirmed, scheduled
or already paid; 1 some rows failed; 2 invalid input or options (nothing confirmed).
"""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import click

from ..batch.confirm import ConfirmOutcome, ConfirmStatus
from ..batch.report import describe_error
from .app import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    _connection_options,
    _console,
    _make_client,
    _run_api,
    _show_payout,
    payouts,
)
from .wording import counted, say_error

__all__ = ["FIELDS", "confirm_command", "confirm_from_file", "outcome_record"]

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
        "amount": payout.amount if payout else "",
        "currency": payout.currency if payout else "",
        "error_type": type(error).__name__ if error else "",
        "error": describe_error(error) if error else "",
    }


#: How --available-at may be written: an ISO-8601 time with its UTC offset.
AVAILABLE_AT_FORMS: Final = "2026-12-01T09:00:00-06:00 or 2026-12-01T15:00:00Z"


def _aware_datetime(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """An ISO-8601 time with its UTC offset; a bare date or time would be a guess."""
    if value is None:
        return None
    from .._convert import parse_iso

    try:
        when = parse_iso(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 time; write {AVAILABLE_AT_FORMS}"
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset; write {AVAILABLE_AT_FORMS}")
    if when <= datetime.now(timezone.utc) and not _release_now_anyway(value):
        # A wrong year would credit every held payout at once: never without a yes.
        raise click.BadParameter(
            f"{value!r} is in the past: the payouts would be credited at once; "
            "check the date, or leave --available-at out to release them now"
        )
    return when


def _release_now_anyway(value: str) -> bool:
    """On a terminal, the operator may say a past --available-at is meant; elsewhere no."""
    if not on_a_terminal():
        return False
    try:
        return click.confirm(
            f"--available-at {value} is in the past: the payouts would be credited now. "
            "Release them now?", default=False, err=True,
        )
    except click.Abort:  # Ctrl-C or end of input at the question
        return False


def on_a_terminal() -> bool:
    """Whether someone is there to answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


@payouts.command("confirm")
@click.argument("payout_id", required=False)
@click.option("--available-at", metavar="ISO-8601", callback=_aware_datetime,
              help=f"Credit at this time instead of now, with its UTC offset: "
                   f"{AVAILABLE_AT_FORMS}.")
@click.option("--json", "as_json", is_flag=True, help="Print the payout as JSON.")
@click.option("--from", "from_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Confirm every row of this CSV (payout_id or reference_id column).")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="With --from: confirmations in flight at most.")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="With --from: one line per row, .csv or .jsonl.")
@_connection_options
def confirm_command(
    payout_id: str | None, available_at: datetime | None, as_json: bool, from_file: Path | None,
    concurrency: int, report_path: Path | None, base_url: str | None, environment: str,
) -> None:
    """Release a pending payout (or every row of --from FILE.csv) now, or schedule
    it with --available-at."""
    when = available_at
    if (payout_id is None) == (from_file is None):
        raise click.UsageError("give a PAYOUT_ID or --from FILE.csv (one of the two)")
    if from_file is not None and as_json:
        raise click.UsageError("--json shows one payout; with --from, use --report FILE.jsonl")
    if from_file is not None:
        sys.exit(confirm_from_file(
            from_file, available_at=when, concurrency=concurrency, report_path=report_path,
            base_url=base_url, environment=environment,
        ))
    assert payout_id is not None
    out = _console()

    async def run() -> int:
        client = _make_client(base_url, environment)
        if client is None:
            return EXIT_INVALID
        async with client:
            payout = await client.payouts.confirm(payout_id, when)
        _show_payout(out, payout, as_json)
        return EXIT_OK

    sys.exit(_run_api(run))


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
        rows = source.validate()
    except BatchValidationError as exc:
        say_error(exc.message)
        return EXIT_INVALID
    out = _console()
    _console(stderr=True).print(f"confirming {counted(rows, 'row')} from {file}...",
                                highlight=False, soft_wrap=True, markup=False)

    async def run() -> int:
        from .export import ReportStopped, ReportWriter
        from .summary import print_problems, print_status_table

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
                    say_error(f"--report: cannot write {report_path}: {exc.strerror}")
                    return EXIT_INVALID
            try:
                async with client, batch:
                    async for outcome in batch:
                        if writer is not None:
                            writer.write(outcome)
                            if writer.failure is not None:
                                raise ReportStopped  # confirm nothing more unrecorded
            except ReportStopped:
                pass  # said below
        if writer is not None and writer.problem is not None:
            say_error(f"{writer.problem}; stopped (rows confirmed so far are on Ecart Pay)")
            return EXIT_INVALID
        report = batch.report
        print_status_table(
            out,
            f"Confirmations from {file}",
            {str(s): n for s, n in report.counts.items()},
            {str(s): per for s, per in report.amounts.items()},
            _STYLES,
        )
        print_problems(out, "Failures", report.failed, (
            f"  row {f.row} {f.reference_id or ''}: {f.reason}" for f in report.failures
        ))
        if report_path is not None:
            out.print(f"report written to {report_path}", highlight=False, soft_wrap=True,
                      markup=False)
        return EXIT_OK if report.ok else EXIT_FAILED

    return _run_api(run)
