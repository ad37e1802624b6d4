"""``client.payouts``: the single-payout methods of the payouts resource, plus batches.

The resource (:mod:`ecartpay_async.resources.payouts`) knows nothing of batches, which
sit above it; this subclass adds :meth:`BatchPayouts.batch`,
:meth:`BatchPayouts.send_batch`, :meth:`BatchPayouts.reconcile` and
:meth:`BatchPayouts.confirm_batch`, and the client builds it. The engine loads on the
first batch, so a program that sends single payouts never imports it.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..resources.payouts import AsyncPayouts

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .confirm import ConfirmBatch, PayoutRefs
    from .engine import Batch, BatchOptions, Requests
    from .identity import JournalIdentity
    from .reconcile import JournalReader, Reconciliation
    from .report import BatchReport

__all__ = ["BatchPayouts"]


class BatchPayouts(AsyncPayouts):
    """Payouts, one at a time or in batches (see :class:`~.engine.Batch`)."""

    async def run_identity(self, *, account: bool = True) -> JournalIdentity:
        """Who a batch through this client is, for its journal (see
        :mod:`~.identity`): the API origin, the environment and the account of the keys
        (one token request, if no token is cached; ``account=False`` leaves the account
        out and sends nothing)."""
        from .identity import UNKNOWN, JournalIdentity, origin_of

        client = self._client
        found = (await client.account_id() or UNKNOWN) if account else ""
        return JournalIdentity(origin_of(client.base_url), client.environment, found)

    def batch(self, requests: Requests, **options: Unpack[BatchOptions]) -> Batch:
        """A batch of payouts, as an async context manager yielding outcomes as they finish.

        ``async with client.payouts.batch(requests, concurrency=64, journal="run.db") as b:
        async for outcome in b: ...``; then ``b.report``. See :class:`~.engine.Batch`.
        """
        telemetry = self._client.telemetry
        if telemetry is not None:  # the same batch, inside its span
            return telemetry.batch(self, requests, **options)
        from .engine import Batch

        return Batch(self, requests, **options)

    async def send_batch(
        self, requests: Requests, **options: Unpack[BatchOptions]
    ) -> BatchReport:
        """Run a batch to its end and return its report (same options as :meth:`batch`)."""
        telemetry = self._client.telemetry
        if telemetry is not None:  # the same batch, inside its span
            async with telemetry.batch(self, requests, **options) as batch:
                pass  # leaving the block waits for every row
            return batch.report
        from .engine import send_batch

        return await send_batch(self, requests, **options)

    def reconcile(
        self,
        requests: Requests,
        *,
        concurrency: int = 32,
        journal: JournalReader | str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Reconciliation:
        """Check each row against Ecart Pay's records (and a journal's), as results stream.

        ``async with client.payouts.reconcile(rows, journal="run.db") as run:
        async for result in run: ...``; then ``run.summary``. See
        :class:`~.reconcile.Reconciliation`.
        """
        from .reconcile import Reconciliation

        return Reconciliation(self, requests, concurrency=concurrency, journal=journal, **options)

    def confirm_batch(
        self,
        refs: PayoutRefs,
        available_at: datetime | None = None,
        *,
        concurrency: int = 32,
        **options: Any,
    ) -> ConfirmBatch:
        """Confirm many pending payouts (by id or reference_id), each exactly once in effect.

        ``async with client.payouts.confirm_batch(refs) as batch: async for outcome in
        batch: ...``; then ``batch.report``. See :class:`~.confirm.ConfirmBatch`.
        """
        from .confirm import ConfirmBatch

        return ConfirmBatch(self, refs, available_at, concurrency=concurrency, **options)
