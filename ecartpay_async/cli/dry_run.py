"""What a dry run warns about beyond the totals: rows that look like one payment twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from ..batch.lookalikes import lookalikes

if TYPE_CHECKING:
    from rich.console import Console

    from ..models.payouts import PayoutRequest

__all__ = ["warn_lookalikes"]

#: Listed one by one up to this many; the rest are counted.
_SHOWN: Final = 10


def warn_lookalikes(out: Console, requests: Iterable[PayoutRequest]) -> int:
    """Print one warning line per recipient paid the same amount under several
    reference_ids; return how many there are."""
    found = lookalikes(requests)
    for lookalike in found[:_SHOWN]:
        references = ", ".join(lookalike.reference_ids)
        out.print(
            f"warning: {lookalike.email} gets {lookalike.amount:,} {lookalike.currency} under "
            f"{len(lookalike.reference_ids)} reference_ids ({references}): each would be paid; "
            "a row copied twice?",
            style="yellow", highlight=False, markup=False, soft_wrap=True,
        )
    if len(found) > _SHOWN:
        out.print(f"warning: and {len(found) - _SHOWN:,} more recipients paid the same amount "
                  "twice or more", style="yellow", highlight=False)
    return len(found)
