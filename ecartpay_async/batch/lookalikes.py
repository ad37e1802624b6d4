"""Rows that look like one payment sent twice: the same recipient and amount under two
reference_ids. Each reference_id is its own payment, so both would be paid; a dry run
says so, since a row copied with a new reference_id is the usual cause."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from .._reprs import safe_repr
from ..models.payouts import PayoutRequest

__all__ = ["Lookalike", "lookalikes"]


@safe_repr
@attrs.frozen
class Lookalike:
    """One recipient paid the same amount under several reference_ids (in file order)."""

    email: str
    amount: Decimal
    currency: str
    reference_ids: tuple[str, ...]


def lookalikes(requests: Iterable[PayoutRequest]) -> list[Lookalike]:
    """Every (email, amount, currency) that more than one reference_id pays, in the
    order each first appears. Emails compare without case; amounts by value."""
    seen: dict[tuple[str, Decimal, str], tuple[PayoutRequest, list[str]]] = {}
    for request in requests:
        if request.email is None or request.reference_id is None:
            continue  # a customer's saved method: not compared
        key = (request.email.lower(), request.amount.normalize(), request.currency)
        seen.setdefault(key, (request, []))[1].append(request.reference_id)
    return [
        Lookalike(first.email or "", first.amount, first.currency, tuple(references))
        for first, references in seen.values()
        if len(references) > 1
    ]
