"""The balance shown by ``payouts send --dry-run``: a courtesy that never blocks the run.

For each currency of the batch the dry run asks ``GET /api/transactions/summary``
and shows the available balance next to the batch's total. The whole look-up has a
short deadline and no retries; any failure (no keys, no network, an answer it cannot
read, no balance in it) becomes one dim line saying why, and the dry run goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import anyio
import attrs

from .._reprs import safe_repr

if TYPE_CHECKING:
    from rich.console import Console

    from ..client import AsyncClient

__all__ = ["BALANCE_DEADLINE", "Balances", "fetch_balances", "print_balances"]

#: Seconds the dry run waits for every summary together.
BALANCE_DEADLINE: Final = 3.0


@safe_repr
@attrs.frozen
class Balances:
    """Available balance per currency, or why there is none to show."""

    available: Mapping[str, Decimal] = attrs.field(factory=dict)
    unavailable: str | None = None


async def fetch_balances(client: AsyncClient, currencies: list[str]) -> Balances:
    """Each currency's available balance; never raises, never waits past the deadline."""
    from ..errors import EcartPayError

    found: dict[str, Decimal] = {}
    try:
        with anyio.fail_after(BALANCE_DEADLINE):
            fast = client.with_options(max_retries=0, timeout=BALANCE_DEADLINE)
            for currency in currencies:
                summary = await fast.transactions.summary(currency)
                if summary.balance is None:
                    return Balances(unavailable=f"the {currency} summary has no balance")
                found[currency] = summary.balance
    except TimeoutError:
        return Balances(unavailable=f"no answer within {BALANCE_DEADLINE:g} s")
    except EcartPayError as exc:
        return Balances(unavailable=str(exc))
    except Exception as exc:  # a courtesy: whatever went wrong, the dry run goes on
        return Balances(unavailable=type(exc).__name__)
    return Balances(available=found)


def print_balances(out: Console, totals: Mapping[str, Decimal], balances: Balances) -> None:
    """The balance next to each currency's total, or one dim line saying why not."""
    from rich.table import Table

    if balances.unavailable is not None:
        out.print(f"balance: not available ({balances.unavailable})", style="dim",
                  highlight=False, soft_wrap=True, markup=False)
        return
    table = Table(title="balance (GET /api/transactions/summary)", title_justify="left")
    for name in ("currency", "available", "this batch", "left after it"):
        table.add_column(name, justify="left" if name == "currency" else "right")
    for currency, total in totals.items():
        available = balances.available[currency]
        left = available - total
        shown = f"{left:,}" if left >= 0 else f"[bold red]{left:,} (short)[/]"
        table.add_row(currency, f"{available:,}", f"{total:,}", shown)
    out.print(table)
