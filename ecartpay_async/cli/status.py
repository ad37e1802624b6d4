"""``payouts status --journal DSN [--batch NAME]``: one batch's state across every host.

Reads a PostgreSQL journal (see :mod:`ecartpay_async.batch.postgres`) and prints, per
batch, the rows and amounts in each state and currency, the workers holding rows
(live leases, and expired ones whose rows the next claim takes over), and the rows
left ``sending`` without a lease (they are looked up before being sent again). A
SQLite journal (one host) gets its rows per state, and a pointer to ``reconcile``
for the rest. Labels and worker names are shown as text, never as rich markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from ._params import checked_journal, non_empty
from .wording import counted

if TYPE_CHECKING:
    from rich.console import Console

    from ..batch import JournalState
    from ..batch.postgres import BatchStatus

__all__ = ["status_command"]


@click.command("status")
@click.option("--journal", required=True, metavar="DSN|PATH", callback=checked_journal,
              help="The PostgreSQL journal the workers share (postgresql://...), or a "
                   "run's SQLite journal.")
@click.option("--batch", "batch_label", metavar="NAME", callback=non_empty,
              help="Only this batch.")
@click.option("--schema", default="ecartpay", show_default=True, callback=non_empty,
              envvar="ECARTPAY_JOURNAL_SCHEMA",
              help="The PostgreSQL schema holding the journal (or ECARTPAY_JOURNAL_SCHEMA).")
def status_command(journal: str, batch_label: str | None, schema: str) -> None:
    """Show a batch's state across every worker: counts and totals per state and
    currency, who holds what, expired leases."""
    import anyio
    from rich.console import Console

    from ..batch.dsn import journal_kind
    from ..errors import JournalError

    console = Console(width=200) if not sys.stdout.isatty() else Console()
    if journal_kind(journal) == "sqlite":
        if not os.path.isfile(journal):
            click.echo(f"error: no journal at {journal}", err=True)
            sys.exit(2)
        try:
            counts = anyio.run(_sqlite_counts, journal)
        except JournalError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        render_sqlite(console, journal, counts)
        sys.exit(0)
    try:
        from ..batch.postgres import batch_status
    except ImportError:
        click.echo("error: this needs the postgres extra: pip install 'ecartpay-async[postgres]'",
                   err=True)
        sys.exit(2)
    try:
        statuses = anyio.run(lambda: batch_status(journal, batch=batch_label, schema=schema))
    except JournalError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if not statuses:
        console.print("no rows" + (f" in batch {batch_label!r}" if batch_label else ""),
                      highlight=False, markup=False)
    for status in statuses:
        render_status(console, status)
    sys.exit(0)


async def _sqlite_counts(path: str) -> Mapping[JournalState, int]:
    from ..batch import SQLiteJournal

    async with SQLiteJournal(path) as journal:
        return await journal.counts()


def render_sqlite(console: Console, path: str, counts: Mapping[JournalState, int]) -> None:
    from rich.table import Table

    # A line of its own, never wrapped (a table title would cut the path in two).
    console.print(f"journal {path}: {sum(counts.values()):,} rows", highlight=False,
                  markup=False, soft_wrap=True)
    table = Table()
    table.add_column("state")
    table.add_column("rows", justify="right")
    for state, rows in counts.items():
        table.add_row(str(state), f"{rows:,}")
    console.print(table)
    console.print("amounts per row, and whether Ecart Pay agrees: payouts reconcile FILE.csv "
                  f"--journal {path}", highlight=False, markup=False, soft_wrap=True)


def render_status(console: Console, status: BatchStatus) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..batch import JournalState

    final = sum(status.count(s) for s in (JournalState.PAID, JournalState.PENDING_CONFIRMATION,
                                          JournalState.FAILED))
    # Plain text, not markup: a batch label such as "[blink]" is shown as typed; a line
    # of its own, so that a long label is not cut to the table's width.
    console.print(f"batch {status.batch}: {counted(status.rows, 'row')}, {final:,} final",
                  highlight=False, markup=False, soft_wrap=True)
    table = Table()
    for name in ("state", "currency", "rows", "amount"):
        table.add_column(name, justify="right" if name in ("rows", "amount") else "left")
    for total in status.totals:
        table.add_row(str(total.state), Text(total.currency), f"{total.rows:,}",
                      f"{total.amount:,}")
    console.print(table)
    if status.holders:
        holders = Table(title="workers holding rows", title_justify="left")
        for name in ("worker", "live leases", "expired leases", "lease until"):
            holders.add_column(name, justify="left" if name == "worker" else "right")
        for holder in status.holders:
            until = holder.lease_until.isoformat(timespec="seconds") if holder.lease_until else ""
            holders.add_row(Text(holder.worker), f"{holder.live:,}", f"{holder.expired:,}", until)
        console.print(holders)
        expired = sum(h.expired for h in status.holders)
        if expired:
            console.print(f"{counted(expired, 'row')} with an expired lease: the next worker to "
                          "claim them looks them up, then finishes them", highlight=False)
    if status.released:
        console.print(f"{counted(status.released, 'row')} left sending without an answer: a "
                      "later run looks them up before sending", highlight=False)
