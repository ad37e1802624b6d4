"""How the command shows a batch: a live progress bar (or plain lines), then a summary.

Uses rich (the ``cli`` extra); imported only by the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from ..batch.outcome import Outcome, OutcomeStatus
from ..models.common import PayoutStatus
from .wording import counted

if TYPE_CHECKING:
    from .._pause import PauseStats
    from ..batch.engine import Batch
    from ..batch.report import BatchReport

__all__ = ["LiveProgress", "Tally", "describe_pauses", "format_amounts", "summary_table"]

#: Failures listed in the summary; the report file has them all.
FAILURES_SHOWN: Final = 20
_PLAIN_INTERVAL: Final = 2.0
#: Rows finished before the plain line shows an ETA: rows finish in waves of
#: ``concurrency``, so the first ones say nothing about the rate.
_ETA_MIN_ROWS: Final = 100
#: The summary's label for skipped rows whose payout still waits for a confirmation.
STILL_PENDING: Final = "still pending"
#: The summary's row for rows another worker sharing the journal finished meanwhile.
BY_OTHER_WORKERS: Final = "done by other workers (this run)"
PAID_NOW: Final = "paid now"
PAID_EARLIER: Final = "already paid earlier"
#: How the summary names a status where its value alone would mislead.
_LABELS: Final = {OutcomeStatus.PAID: PAID_NOW, OutcomeStatus.SKIPPED: PAID_EARLIER}

_STYLES: Final = {
    OutcomeStatus.PAID: "green",
    OutcomeStatus.PENDING: "cyan",
    OutcomeStatus.FAILED: "red",
    OutcomeStatus.SKIPPED: "dim",
    OutcomeStatus.NOT_ATTEMPTED: "yellow",
}


def is_still_pending(outcome: Outcome) -> bool:
    """A row skipped because an earlier run sent it, whose payout still waits for a
    confirmation: done for this run, not for the person waiting for the money."""
    payout = outcome.payout
    return (
        outcome.status is OutcomeStatus.SKIPPED
        and not outcome.by_peer  # another worker of this run: counted apart
        and payout is not None
        and payout.status == PayoutStatus.PENDING
    )


class Tally:
    """Running counts per status, for the progress display and the summary.

    Skipped rows still waiting for a confirmation are counted apart
    (:attr:`still_pending`), so they are shown as pending, not hidden among the done.
    With several workers, rows another worker finished during this run are counted
    apart too (:attr:`by_peer`): they were not done "by an earlier run".
    """

    def __init__(self) -> None:
        self.counts = dict.fromkeys(OutcomeStatus, 0)
        self.done = 0
        self.still_pending = 0
        self.still_pending_amounts: dict[str, Decimal] = {}
        self.by_peer = 0
        self.by_peer_amounts: dict[str, Decimal] = {}

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        self.done += 1
        if outcome.by_peer and outcome.request is not None:
            currency, amount = outcome.request.currency, outcome.request.amount
            self.by_peer += 1
            self.by_peer_amounts[currency] = self.by_peer_amounts.get(currency, Decimal(0)) + amount
        if is_still_pending(outcome):
            assert outcome.request is not None  # skipped rows always have one
            currency, amount = outcome.request.currency, outcome.request.amount
            self.still_pending += 1
            self.still_pending_amounts[currency] = (
                self.still_pending_amounts.get(currency, Decimal(0)) + amount
            )

    def line(self) -> str:
        counts = self.counts
        parts = [f"{s}={counts[s]}"
                 for s in (OutcomeStatus.PAID, OutcomeStatus.PENDING, OutcomeStatus.FAILED)]
        if self.still_pending:
            parts.append(f"still_pending={self.still_pending}")
        if self.by_peer:
            parts.append(f"by_other_workers={self.by_peer}")
        if counts[OutcomeStatus.SKIPPED] > self.still_pending + self.by_peer:
            skipped = counts[OutcomeStatus.SKIPPED] - self.still_pending - self.by_peer
            parts.append(f"skipped={skipped}")
        if counts[OutcomeStatus.NOT_ATTEMPTED]:
            parts.append(f"not_attempted={counts[OutcomeStatus.NOT_ATTEMPTED]}")
        return " ".join(parts)


def describe_pauses(stats: PauseStats) -> str:
    """The server's slow-downs for a progress line: "paused 1.0s (3 pauses, 4.2s in all)"."""
    if not stats.pauses:
        return ""
    times = f"{stats.pauses} pause{'s' if stats.pauses != 1 else ''}"
    if stats.paused:
        return f"paused {stats.remaining:.1f}s ({times}, {stats.paused_seconds:.1f}s in all)"
    return f"{times}, {stats.paused_seconds:.1f}s paused"


class _PauseColumn(ProgressColumn):
    """Whether the server asked the client to wait, read at every refresh (the bar
    redraws during a pause, when no row finishes)."""

    def __init__(
        self, pauses: Callable[[], PauseStats], table_column: Column | None = None
    ) -> None:
        super().__init__(table_column=table_column)
        self._pauses = pauses

    def render(self, task: Task) -> Text:
        return Text(describe_pauses(self._pauses()), style="yellow")


class _RateColumn(ProgressColumn):
    """Rows per second since the start (rich's own speed is a short-window estimate)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f}/s", style="progress.data.speed")


class LiveProgress:
    """A progress bar on a terminal, a plain line every few seconds otherwise.

    ``pauses`` (``lambda: batch.pauses``) adds the server's slow-downs to the line.
    """

    def __init__(
        self,
        console: Console,
        total: int | None,
        *,
        pauses: Callable[[], PauseStats] | None = None,
    ) -> None:
        self.console = console
        self.total = total
        self._pauses = pauses
        self.tally = Tally()
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            # Done/total, percent, rate and ETA never shrink (done/total must stay
            # readable at 80 columns); the bar shrinks first, then the tally and the
            # pauses wrap onto more lines.
            def fixed() -> Column:
                return Column(no_wrap=True)

            def wraps() -> Column:
                return Column(overflow="fold", ratio=1, min_width=10)

            columns: list[ProgressColumn | str] = [
                TextColumn("[bold]payouts", table_column=fixed()),
                BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=3)),
                MofNCompleteColumn(table_column=fixed()),
                TaskProgressColumn(table_column=fixed()),
                _RateColumn(table_column=fixed()),
                TextColumn("ETA", table_column=fixed()),
                TimeRemainingColumn(table_column=fixed()),
                TextColumn("{task.fields[tally]}", table_column=wraps()),
            ]
            if pauses is not None:
                columns.append(_PauseColumn(pauses, table_column=wraps()))
            self._bar = Progress(*columns, console=console, transient=False)

    def __enter__(self) -> LiveProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("send", total=self.total, tally=self.tally.line())
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Plain output ends with the summary, which says it all: no last progress line.
        if self._bar is not None:
            self._bar.stop()

    def add(self, outcome: Outcome) -> None:
        self.tally.add(outcome)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, tally=self.tally.line())
        elif time.monotonic() - self._last_line >= _PLAIN_INTERVAL:
            self._print_line()

    def _print_line(self) -> None:
        now = time.monotonic()
        self._last_line = now
        done = self.tally.done
        rate = done / (now - self._started) if now > self._started else 0.0
        of = f"/{self.total} ({done / self.total:.0%})" if self.total else ""
        eta = ""
        if self.total and rate > 0 and _ETA_MIN_ROWS <= done < self.total:
            eta = f" eta {(self.total - done) / rate:.0f}s"
        shown_rate = f"{rate:,.1f}" if rate < 10 else f"{rate:,.0f}"
        paused = describe_pauses(self._pauses()) if self._pauses is not None else ""
        self.console.print(
            f"{done}{of} rows, {shown_rate}/s{eta}, {self.tally.line()}"
            + (f", {paused}" if paused else ""),
            highlight=False,
        )


def paid_line(report: BatchReport, tally: Tally | None = None) -> str:
    """Money moved by this run apart from money an earlier run moved (a journal's
    done rows, or payouts the API already had): one line, easy to grep. With the
    run's ``tally``, rows an earlier run sent that still wait for a confirmation are
    counted apart."""
    still = tally.still_pending if tally is not None else 0
    still_amounts = tally.still_pending_amounts if tally is not None else {}
    earlier = report.count(OutcomeStatus.SKIPPED) - still
    earlier_amounts = {
        c: a - still_amounts.get(c, Decimal(0))
        for c, a in report.totals(OutcomeStatus.SKIPPED).items()
        if a - still_amounts.get(c, Decimal(0))
    }
    line = (
        f"{PAID_NOW}: {_rows(report.paid)}, "
        f"{format_amounts(report.totals(OutcomeStatus.PAID))}; "
        f"{PAID_EARLIER}: {_rows(earlier)}, {format_amounts(earlier_amounts)}"
    )
    if still:
        line += f"; {STILL_PENDING} from an earlier run: {_rows(still)}, "
        line += format_amounts(still_amounts)
    return line


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def format_amounts(amounts: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{amount:,} {currency}" for currency, amount in amounts.items()) or "-"


def summary_table(report: BatchReport, tally: Tally | None = None) -> Table:
    """Rows and amounts per status, one amount column per currency, and their total.

    With the run's ``tally``, skipped rows still waiting for a confirmation get a row
    of their own ("still pending"), taken out of "skipped".
    """
    currencies = sorted({c for per in report.amounts.values() for c in per})
    table = Table(title="Payout batch", title_justify="left")
    table.add_column("status")
    table.add_column("rows", justify="right")
    for currency in currencies:
        table.add_column(currency, justify="right")

    def add_row(label: Text, count: int, totals: Mapping[str, Decimal]) -> None:
        table.add_row(label, f"{count:,}",
                      *(f"{totals[c]:,}" if totals.get(c) else "-" for c in currencies))

    still_pending = tally.still_pending if tally is not None else 0
    still_amounts = tally.still_pending_amounts if tally is not None else {}
    by_peer = tally.by_peer if tally is not None else 0
    peer_amounts = tally.by_peer_amounts if tally is not None else {}
    for status in OutcomeStatus:
        count, totals = report.count(status), report.totals(status)
        if status is OutcomeStatus.SKIPPED:
            count -= still_pending + by_peer
            totals = {c: a - still_amounts.get(c, Decimal(0)) - peer_amounts.get(c, Decimal(0))
                      for c, a in totals.items()}
            if by_peer:
                add_row(Text(BY_OTHER_WORKERS, style=_STYLES[status]), by_peer, peer_amounts)
        if count or status in (OutcomeStatus.PAID, OutcomeStatus.FAILED):
            add_row(Text(_LABELS.get(status, str(status)), style=_STYLES[status]), count, totals)
        if status is OutcomeStatus.PENDING and still_pending:
            add_row(Text(f"{STILL_PENDING} (sent by an earlier run)", style=_STYLES[status]),
                    still_pending, still_amounts)
    table.add_section()
    grand: dict[str, Decimal] = {}
    for per in report.amounts.values():
        for currency, amount in per.items():
            grand[currency] = grand.get(currency, Decimal(0)) + amount
    add_row(Text("total"), report.total, grand)
    return table


def render_summary(console: Console, report: BatchReport, tally: Tally | None = None) -> None:
    console.print(summary_table(report, tally))
    console.print(paid_line(report, tally), highlight=False, soft_wrap=True)
    latency = ""
    if report.latency_p50 is not None:
        latency = (
            f"; latency p50 {_ms(report.latency_p50)}, p90 {_ms(report.latency_p90)}, "
            f"p99 {_ms(report.latency_p99)}"
        )
    console.print(
        f"{report.duration:.1f} s, {report.rate:,.0f} rows/s; "
        f"{counted(report.attempts, 'attempt')} ({counted(report.retries, 'retry', 'retries')}), "
        f"{report.recovered:,} recovered by reference_id lookup"
        f"{latency}",
        highlight=False,
        soft_wrap=True,
    )
    if report.failures:
        # Plain lines, never wrapped: easy to read in a log and to grep.
        console.print(Text(f"Failures ({report.failed:,}):", style="bold red"))
        for failure in report.failures[:FAILURES_SHOWN]:
            console.print(
                f"  row {failure.row} {failure.reference_id or ''}: {failure.reason}",
                highlight=False, markup=False, soft_wrap=True,
            )
        hidden = report.failed - min(len(report.failures), FAILURES_SHOWN)
        if hidden > 0:
            console.print(f"  ... and {hidden:,} more (see --report)", highlight=False)
    if report.abort_reason is not None:
        console.print(Text(f"Stopped: {report.abort_reason}", style="bold red"), soft_wrap=True)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def render_worker(console: Console, batch: Batch, tally: Tally | None = None) -> None:
    """What this worker did when several share a journal: payouts it made (not those
    it found made by a dead worker or an earlier run), rows others finished, and how
    many rows (each once) it found held by other workers."""
    report = batch.report
    # A payout found already made (a dead worker's, an earlier run's) is skipped, not paid.
    made = report.paid + report.pending
    console.print(
        f"worker {batch.run_id}: {counted(made, 'payout')} made here, "
        f"{counted(report.skipped, 'row')} done elsewhere or before, "
        f"{counted(batch.held_elsewhere, 'row')} found held by other workers",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
