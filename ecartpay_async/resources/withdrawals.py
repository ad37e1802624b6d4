"""``client.withdrawals``: money taken to the bank, read-only (``GET /api/withdrawals``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx

from ..models.withdrawals import Withdrawal
from ..money import check_currency
from ._base import Resource
from ._pages import check_limit, paginate, query_day

__all__ = ["AsyncWithdrawals"]

WITHDRAWALS = "/api/withdrawals"


class AsyncWithdrawals(Resource):
    """The account's withdrawals, newest first."""

    def list(
        self,
        *,
        currency: str | None = None,
        status: str | None = None,
        q: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        limit: int = 20,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> AsyncIterator[Withdrawal]:
        """Every withdrawal matching the filters: ``async for w in ...``.

        ``currency`` and ``status`` (``processing``, ``paid``) match exactly; ``q``
        searches the reference and ids; ``start_date`` and ``end_date`` bound the day,
        both included (sent as ``date_[start]`` and ``date_[end]``).
        """
        filters = {
            "currency": None if currency is None else check_currency(currency),
            "status": status,
            "q": q,
            "date_[start]": query_day(start_date, "start_date"),
            "date_[end]": query_day(end_date, "end_date"),
        }
        return paginate(self, WITHDRAWALS, Withdrawal, filters,
                        limit=check_limit(limit), max_retries=max_retries, timeout=timeout)
