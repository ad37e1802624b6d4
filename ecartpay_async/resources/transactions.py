"""``client.transactions``: the account's statement, read-only.

``list`` walks ``GET /api/transactions`` page after page, ``retrieve`` reads one
(``GET /api/transactions/{id}``) and ``summary`` the totals of one currency
(``GET /api/transactions/summary?currency=``). Reads retry per the client's policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx

from ..models.transactions import AccountTransaction, TransactionSummary
from ..money import check_currency
from ._base import Resource, path_id
from ._pages import check_limit, paginate, query_day

__all__ = ["AsyncTransactions"]

TRANSACTIONS = "/api/transactions"
SUMMARY = "/api/transactions/summary"


class AsyncTransactions(Resource):
    """The movements of the account's money: payments in, refunds, payouts, withdrawals."""

    def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        q: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        limit: int = 50,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> AsyncIterator[AccountTransaction]:
        """Every transaction matching the filters, newest first: ``async for t in ...``.

        ``type`` (``payment``, ``charge``...) and ``status`` (``paid``, ``reimbursed``...)
        match exactly; ``q`` searches; ``start_date`` and ``end_date`` bound the day,
        both included.
        """
        filters = {
            "type": type,
            "status": status,
            "q": q,
            "start_date": query_day(start_date, "start_date"),
            "end_date": query_day(end_date, "end_date"),
        }
        return paginate(self, TRANSACTIONS, AccountTransaction, filters,
                        limit=check_limit(limit), max_retries=max_retries, timeout=timeout)

    async def retrieve(
        self,
        transaction_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> AccountTransaction:
        path = f"{TRANSACTIONS}/{path_id(transaction_id, 'transaction_id')}"
        data = await self._request("GET", path, max_retries=max_retries, timeout=timeout)
        return self._structure(data, AccountTransaction, "GET", path)

    async def summary(
        self,
        currency: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> TransactionSummary:
        """The totals of ``currency`` (pay-ins, payouts...) and, when the API gives it, the
        available balance. Fields the answer has beyond those are kept in ``extra``."""
        code = check_currency(currency)
        data = await self._request(
            "GET", SUMMARY, params={"currency": code}, max_retries=max_retries, timeout=timeout
        )
        if isinstance(data, dict) and "currency" not in data:
            data = {**data, "currency": code}  # the answer may leave implied what was asked
        return self._structure(data, TransactionSummary, "GET", SUMMARY)
