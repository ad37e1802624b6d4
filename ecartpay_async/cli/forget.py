"""``payouts forget --journal PATH|DSN [--batch NAME] [--force]``: drop a finished batch.

A journal shared by many runs (a PostgreSQL database several users and demos write
to, or one SQLite file reused) keeps every reference_id it has seen, and a later run
with the same reference_ids skips them as "done by an earlier run". Forgetting a
finished batch lets it run again from scratch (a demo, a rehearsal). It refuses while
any row is ``pending`` or ``sending`` (not sent yet, or maybe in flight: a worker may
still be running), unless ``--force``. In PostgreSQL only the batch named is
forgotten; a SQLite journal holds one batch and is emptied.
"""

from __future__ import annotations

import os
import sys

import click

from ..batch.dsn import journal_kind
from ._params import checked_journal
from .app import EXIT_FAILED, EXIT_INVALID, EXIT_OK, _run, payouts
from .wording import counted

__all__ = ["forget_command"]


@payouts.command("forget")
@click.option("--journal", required=True, metavar="PATH|DSN", callback=checked_journal,
              help="The SQLite file, or the postgresql://... journal the batch ran on.")
@click.option("--batch", "batch_label", metavar="NAME",
              help="The batch to forget (PostgreSQL: required; the --batch it ran with).")
@click.option("--schema", default="ecartpay", show_default=True,
              help="The PostgreSQL schema holding the journal.")
@click.option("--force", is_flag=True,
              help="Forget it even with rows not sent or maybe in flight.")
def forget_command(journal: str, batch_label: str | None, schema: str, force: bool) -> None:
    """Forget a finished batch in a journal, so that it can run again from scratch."""
    from ..batch import SQLiteJournal
    from ..errors import JournalError

    postgres = journal_kind(journal) == "postgresql"
    if postgres:
        if not batch_label:
            click.echo("error: --batch NAME: which batch of the PostgreSQL journal to forget "
                       "(payouts status --journal DSN lists them)", err=True)
            sys.exit(EXIT_INVALID)
        try:
            from ..batch.postgres import PostgresJournal
        except ImportError:
            click.echo("error: a postgresql:// journal needs the postgres extra: "
                       "pip install 'ecartpay-async[postgres]'", err=True)
            sys.exit(EXIT_INVALID)
        opened: PostgresJournal | SQLiteJournal = PostgresJournal(
            journal, batch=batch_label, schema=schema)
    else:
        if batch_label:
            click.echo("error: --batch: a SQLite journal holds one batch; leave --batch out "
                       "to forget all its rows", err=True)
            sys.exit(EXIT_INVALID)
        if not os.path.isfile(journal):  # opening it would create an empty one
            click.echo("error: --journal: no such SQLite journal file (give its path, or a "
                       "postgresql:// DSN)", err=True)
            sys.exit(EXIT_INVALID)
        opened = SQLiteJournal(journal)
    name = f"batch {batch_label!r}" if postgres else f"journal {journal}"

    async def run() -> int:
        async with opened:
            result = await opened.forget(force=force)
        if not result.rows:
            click.echo(f"nothing to forget: no rows in {name}")
            return EXIT_OK
        if not result.forgotten:
            click.echo(f"error: {name} is not finished: {counted(result.unfinished, 'row')} of "
                       f"{result.rows:,} not sent yet or maybe in flight (a worker may still "
                       "be running); nothing was forgotten. Finish it, or add --force.",
                       err=True)
            return EXIT_FAILED
        click.echo(f"forgot {counted(result.rows, 'row')} of {name}"
                   + (f" ({result.unfinished:,} unfinished, --force)" if result.unfinished
                      else ""))
        return EXIT_OK

    try:
        code = _run(run)
    except JournalError as exc:
        click.echo(f"error: {exc.message}", err=True)
        code = EXIT_INVALID
    sys.exit(code)
