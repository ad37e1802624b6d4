"""The summary table of a per-row job (reconcile, bulk confirm): rows and totals per status.

Uses rich (the ``cli`` extra); imported only by the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["LISTED", "print_problems", "print_status_table"]

#: Problem rows listed on screen; the report file has them all.
LISTED: Final = 20


def print_status_table(
    console: Console,
    title: str,
    counts: Mapping[str, int],
    amounts: Mapping[str, Mapping[str, Decimal]],
    styles: Mapping[str, str],
) -> None:
    """The title on its own line (a path in it is never cut), then one line per status
    (rows, then one amount column per currency), then the total."""
    console.print(Text(title, style="italic"), soft_wrap=True)
    console.print(_table(counts, amounts, styles))


def _table(
    counts: Mapping[str, int],
    amounts: Mapping[str, Mapping[str, Decimal]],
    styles: Mapping[str, str],
) -> Table:
    currencies = sorted({c for per in amounts.values() for c in per})
    table = Table()
    table.add_column("status")
    table.add_column("rows", justify="right")
    for currency in currencies:
        table.add_column(currency, justify="right")
    for status, count in counts.items():
        totals = amounts.get(status, {})
        table.add_row(
            Text(status, style=styles.get(status, "")),
            f"{count:,}",
            *(f"{totals[c]:,}" if c in totals else "-" for c in currencies),
        )
    table.add_section()
    grand: dict[str, Decimal] = {}
    for per in amounts.values():
        for currency, amount in per.items():
            grand[currency] = grand.get(currency, Decimal(0)) + amount
    table.add_row("total", f"{sum(counts.values()):,}",
                  *(f"{grand[c]:,}" if c in grand else "-" for c in currencies))
    return table


def print_problems(
    console: Console, title: str, count: int, lines: Iterable[str],
    more: Callable[[int], str] = lambda n: f"  ... and {n:,} more (see --report)",
) -> None:
    """A bold title and the first :data:`LISTED` lines, plain so they grep well."""
    if not count:
        return
    console.print(Text(f"{title} ({count:,}):", style="bold red"))
    shown = 0
    for line in lines:
        if shown == LISTED:
            break
        console.print(line, highlight=False, markup=False, soft_wrap=True)
        shown += 1
    if count > shown:
        console.print(more(count - shown), highlight=False)
