"""``payouts status --journal DSN [--batch NAME]``: one batch's state across every host.

Reads a PostgreSQL journal (see :mod:`ecartpay_async.batch.postgres`) and prints, per
batch, the rows and amounts in each state and currency, the workers holding rows
(live leases, and expired ones whose rows the next claim takes over), and the rows
left ``sending`` without a lease (they are looked up before being sent again).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..batch.postgres import BatchStatus

__all__ = ["status_command"]


@click.command("status")
@click.option("--journal", required=True, metavar="DSN",
              help="The PostgreSQL journal the workers share (postgresql://...).")
@click.option("--batch", "batch_label", metavar="NAME", help="Only this batch.")
@click.option("--schema", default="ecartpay", show_default=True,
              envvar="ECARTPAY_JOURNAL_SCHEMA",
              help="The PostgreSQL schema holding the journal (or ECARTPAY_JOURNAL_SCHEMA).")
def status_command(journal: str, batch_label: str | None, schema: str) -> None:
    """Show a batch's state across every worker: counts and totals per state and
    currency, who holds what, expired leases."""
    import anyio
    from rich.console import Console

    from ..errors import JournalError

    if not journal.startswith(("postgresql://", "postgres://")):
        click.echo("--journal: status reads a PostgreSQL journal (postgresql://...)", err=True)
        sys.exit(2)
    try:
        from ..batch.postgres import batch_status
    except ImportError:
        click.echo("this needs the postgres extra: pip install 'ecartpay-async[postgres]'",
                   err=True)
        sys.exit(2)
    try:
        statuses = anyio.run(lambda: batch_status(journal, batch=batch_label, schema=schema))
    except JournalError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    console = Console(width=200) if not sys.stdout.isatty() else Console()
    if not statuses:
        console.print("no rows" + (f" in batch {batch_label!r}" if batch_label else ""),
                      highlight=False)
    for status in statuses:
        render_status(console, status)
    sys.exit(0)


def render_status(console: Console, status: BatchStatus) -> None:
    from rich.table import Table

    from ..batch import JournalState

    final = sum(status.count(s) for s in (JournalState.PAID, JournalState.PENDING_CONFIRMATION,
                                          JournalState.FAILED))
    table = Table(title=f"batch {status.batch}: {status.rows:,} rows, {final:,} final",
                  title_justify="left")
    for name in ("state", "currency", "rows", "amount"):
        table.add_column(name, justify="right" if name in ("rows", "amount") else "left")
    for total in status.totals:
        table.add_row(str(total.state), total.currency, f"{total.rows:,}", f"{total.amount:,}")
    console.print(table)
    if status.holders:
        holders = Table(title="workers holding rows", title_justify="left")
        for name in ("worker", "live leases", "expired leases", "lease until"):
            holders.add_column(name, justify="left" if name == "worker" else "right")
        for holder in status.holders:
            until = holder.lease_until.isoformat(timespec="seconds") if holder.lease_until else ""
            holders.add_row(holder.worker, f"{holder.live:,}", f"{holder.expired:,}", until)
        console.print(holders)
        expired = sum(h.expired for h in status.holders)
        if expired:
            console.print(f"{expired:,} rows have an expired lease: the next worker to claim "
                          "them looks them up, then finishes them", highlight=False)
    if status.released:
        console.print(f"{status.released:,} rows were left sending without an answer: a later "
                      "run looks them up before sending", highlight=False)
