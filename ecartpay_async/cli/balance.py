"""The balance before money: shown by ``payouts send --dry-run``, checked by ``send``.

For each currency of the batch ``GET /api/transactions/summary`` tells the available
balance. The dry run shows it next to the batch's total; ``send`` reads it before the
first payout and refuses a batch it cannot cover (:func:`balance_check`: exit 2, one
line with the shortfall per currency, unless ``--allow-short``), counting only the
rows still to send (those a journal shows done are left out). The look-up has a short
deadline and no retries; where the API does not answer it (no network, an answer it
cannot read, no balance in it) one dim line says so and the run goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import anyio
import attrs

from .._reprs import safe_repr

if TYPE_CHECKING:
    from rich.console import Console

    from ..client import AsyncClient

__all__ = [
    "BALANCE_DEADLINE",
    "BalanceShortfall",
    "Balances",
    "balance_check",
    "fetch_balances",
    "print_balances",
    "shortfall",
]

#: Seconds the dry run waits for every summary together.
BALANCE_DEADLINE: Final = 3.0


@safe_repr
@attrs.frozen
class Balances:
    """Available balance per currency, or why there is none to show."""

    available: Mapping[str, Decimal] = attrs.field(factory=dict)
    unavailable: str | None = None
    #: The API cannot be used at all: unreachable, or the keys refused (the batch then
    #: stops at its first request and says so itself).
    unusable: bool = False


async def fetch_balances(client: AsyncClient, currencies: list[str]) -> Balances:
    """Each currency's available balance; never raises, never waits past the deadline."""
    from ..errors import APIConnectionError, EcartPayError
    from ..rules import is_fatal

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
        unusable = isinstance(exc, APIConnectionError) or is_fatal(exc)
        return Balances(unavailable=str(exc), unusable=unusable)
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


class BalanceShortfall(Exception):
    """The available balance does not cover the batch; the message is the one line."""


def shortfall(
    needed: Mapping[str, Decimal], available: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """How much each currency lacks (only those that lack something)."""
    return {
        currency: amount - available.get(currency, Decimal(0))
        for currency, amount in sorted(needed.items())
        if amount > available.get(currency, Decimal(0))
    }


def balance_check(
    client: AsyncClient, err: Console, *, allow_short: bool
) -> Callable[[Mapping[str, Decimal]], Awaitable[None]]:
    """The batch's ``before_sending``: refuse (raise :class:`BalanceShortfall`) a batch
    whose rows still to send the available balance cannot cover, unless ``allow_short``."""

    async def check(needed: Mapping[str, Decimal]) -> None:
        needed = {c: a for c, a in needed.items() if a > 0}
        if not needed:
            return  # nothing left to send
        balances = await fetch_balances(client, list(needed))
        if balances.unusable:
            return  # the batch stops at its first request and says why
        if balances.unavailable is not None:
            err.print(f"balance: not checked ({balances.unavailable})", style="dim",
                      highlight=False, soft_wrap=True)
            return
        short = shortfall(needed, balances.available)
        if not short:
            return
        detail = ", ".join(
            f"{currency} short by {missing:,} (needs {needed[currency]:,}, "
            f"has {balances.available.get(currency, Decimal(0)):,})"
            for currency, missing in short.items()
        )
        if allow_short:
            err.print(f"warning: the balance does not cover this batch: {detail}; "
                      "sending anyway (--allow-short)", highlight=False, soft_wrap=True)
            return
        raise BalanceShortfall(
            f"error: the balance does not cover this batch: {detail}; nothing was sent "
            "(--allow-short sends anyway)"
        )

    return check
