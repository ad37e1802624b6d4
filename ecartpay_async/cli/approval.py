"""Approval before real money moves: ``payouts send`` against production asks first.

With ``--environment production`` (whatever ``--base-url`` says, since a proxy or a
tunnel to production has a local address too) the command shows the row count and
the totals per currency and goes on only when the operator types the row count.
Without a terminal to ask on it refuses unless ``--yes`` was given. The sandbox
environment, ``--sandbox`` and ``--dry-run`` move no money and never ask.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import click

from ..batch.source import CsvSummary
from .wording import counted

__all__ = ["approve_send", "needs_approval"]


def needs_approval(environment: str) -> bool:
    """Whether a send in ``environment`` moves real money."""
    return environment == "production"


def approve_send(
    file: Path,
    summary: CsvSummary,
    *,
    environment: str,
    assume_yes: bool,
    stdin: TextIO | None = None,
) -> bool:
    """True when the send may go ahead; says why not on stderr otherwise."""
    if not needs_approval(environment):
        return True
    stdin = stdin or sys.stdin
    click.echo(_describe(file, summary), err=True)
    if assume_yes:
        click.echo("--yes given: sending without asking.", err=True)
        return True
    if not stdin.isatty():
        click.echo(
            "refused: a production send must be approved on a terminal by typing the row "
            "count, or run with --yes. Nothing was sent.",
            err=True,
        )
        return False
    try:
        typed = click.prompt(
            f"Type the number of rows ({summary.rows:,}) to send them, anything else cancels",
            default="", show_default=False, err=True,
        )
    except click.Abort:  # Ctrl-C or end of input at the prompt
        typed = ""
    if typed.strip().replace(",", "") == str(summary.rows):
        return True
    click.echo("not approved: nothing was sent.", err=True)
    return False


def _describe(file: Path, summary: CsvSummary) -> str:
    lines = [f"PRODUCTION: about to pay {counted(summary.rows, 'row')} from {file}, real money:"]
    lines += [f"  {_money(total)} {currency}" for currency, total in summary.totals.items()]
    if summary.require_confirmation:
        lines.append(f"  ({summary.require_confirmation:,} of them stay pending until confirmed)")
    return "\n".join(lines)


def _money(amount: Decimal) -> str:
    return f"{amount:,}"
