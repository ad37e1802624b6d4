"""``client.payouts``: the single-payout methods of the payouts resource, plus batches.

The resource (:mod:`ecartpay_async.resources.payouts`) knows nothing of batches, which
sit above it; this subclass adds :meth:`BatchPayouts.batch` and
:meth:`BatchPayouts.send_batch`, and the client builds it. The engine loads on the
first batch, so a program that sends single payouts never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resources.payouts import AsyncPayouts

if TYPE_CHECKING:
    from .engine import Batch, Requests
    from .report import BatchReport

__all__ = ["BatchPayouts"]


class BatchPayouts(AsyncPayouts):
    """Payouts, one at a time or in batches (see :class:`~.engine.Batch`)."""

    def batch(self, requests: Requests, **options: Any) -> Batch:
        """A batch of payouts, as an async context manager yielding outcomes as they finish.

        ``async with client.payouts.batch(requests, concurrency=64, journal="run.db") as b:
        async for outcome in b: ...``; then ``b.report``. See :class:`~.engine.Batch`.
        """
        from .engine import Batch

        return Batch(self, requests, **options)

    async def send_batch(self, requests: Requests, **options: Any) -> BatchReport:
        """Run a batch to its end and return its report (same options as :meth:`batch`)."""
        from .engine import send_batch

        return await send_batch(self, requests, **options)
