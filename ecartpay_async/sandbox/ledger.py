"""The account's money as the read-only endpoints show it, derived from the state.

Nothing here is stored: every answer is rebuilt from the payouts, orders and
withdrawals the state holds, so it can never disagree with them. A transaction's
``id`` is the id of what made it (a payout, an order, a refund, a withdrawal).

Our choices where the real API is unknown (API-NOTES: the summary's shape is not
published): transactions carry the types of Ecart Pay's OpenAPI file:
``payment`` (an order paid, net of its fee), ``charge`` (money that left the
account: a payout sent, with its ``payout_id``, or an order refunded, with its
``order_id``) and ``withdrawal``; the summary of a currency is
``{currency, balance, pay_ins, fees, refunds, payouts, withdrawals, count}``; payouts
an account receives are credited to its balance but not listed. Lists
are newest first, filtered by the documented query parameters, in the
``{count, docs, pages}`` envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from .records import Order, Payout, Withdrawal, iso
from .validate import bad_request

__all__ = ["matching", "summary", "transactions", "withdrawal_docs"]

def transactions(
    payouts: Iterable[Payout], orders: Iterable[Order], withdrawals: Iterable[Withdrawal]
) -> list[dict[str, Any]]:
    """Every movement of one account's money, newest first."""
    out: list[tuple[float, dict[str, Any]]] = []
    for payout in payouts:
        out.append((payout.created_at, {
            "id": payout.id,
            "type": "charge",
            "status": payout.status,
            "amount": payout.amount,
            "fee": 0,
            "currency": payout.currency,
            "reference_id": payout.reference_id,
            "reference": payout.reference,
            "payout_id": payout.id,
            "email": payout.email,
            "created_at": iso(payout.created_at),
            "updated_at": iso(payout.updated_at),
        }))
    for order in orders:
        if order.status == "created":
            continue  # not paid: no money moved
        out.append((order.created_at, {
            "id": order.id,
            "type": "payment",
            "status": "reimbursed" if order.status == "refunded" else "paid",
            "amount": order.total,
            "fee": order.fee,
            "net": order.total - order.fee,
            "currency": order.currency,
            "reference": order.number,
            "order_id": order.id,
            "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at),
        }))
        for refund in order.refunds:
            out.append((order.updated_at, {
                "id": refund["id"],
                "type": "charge",
                "status": "paid",
                "amount": refund["amount"],
                "fee": 0,
                "currency": order.currency,
                "reference": order.number,
                "order_id": order.id,
                "created_at": refund["created_at"],
                "updated_at": refund["created_at"],
            }))
    for withdrawal in withdrawals:
        out.append((withdrawal.created_at, {
            **withdrawal.to_json(),
            "type": "withdrawal",
            "withdrawal_id": withdrawal.id,
        }))
    out.sort(key=lambda pair: pair[0], reverse=True)
    return [doc for _, doc in out]


def summary(
    docs: Sequence[Mapping[str, Any]], currency: str, balance: Decimal
) -> dict[str, Any]:
    """Totals of one currency's transactions, and the balance available in it."""
    totals = dict.fromkeys(("payment", "refund", "payout", "withdrawal"), Decimal(0))
    fees = Decimal(0)
    count = 0
    for doc in docs:
        if doc["currency"] != currency:
            continue
        count += 1
        totals[_kind(doc)] += doc["amount"]
        fees += doc["fee"]
    return {
        "currency": currency,
        "balance": balance,
        "pay_ins": totals["payment"],
        "fees": fees,
        "refunds": totals["refund"],
        "payouts": totals["payout"],
        "withdrawals": totals["withdrawal"],
        "count": count,
    }


def _kind(doc: Mapping[str, Any]) -> str:
    """What moved the money: a charge is a payout sent or an order refunded."""
    if doc["type"] == "charge":
        return "payout" if doc.get("payout_id") else "refund"
    return str(doc["type"])


def withdrawal_docs(withdrawals: Iterable[Withdrawal]) -> list[dict[str, Any]]:
    return [w.to_json() for w in sorted(withdrawals, key=lambda w: w.created_at, reverse=True)]


def matching(
    docs: Sequence[Mapping[str, Any]],
    query: Mapping[str, str],
    *,
    exact: Mapping[str, str],
    search: Sequence[str],
    date_range: tuple[str, str],
) -> list[Mapping[str, Any]]:
    """``docs`` filtered by the query: the fields in ``exact`` (query name to field)
    match, ``q`` is a substring of a ``search`` field, and the two ``date_range``
    parameters (YYYY-MM-DD) bound ``created_at``'s day, both ends included."""
    start, end = (_day(query, name) for name in date_range)
    q = (query.get("q") or "").lower()
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    for parameter, field in exact.items():
        wanted = query.get(parameter)
        if wanted is not None:
            tests.append(_equals(field, wanted))
    if q:
        tests.append(lambda doc: any(q in str(doc.get(f) or "").lower() for f in search))
    if start is not None or end is not None:
        tests.append(lambda doc: _within(doc["created_at"], start, end))
    return [doc for doc in docs if all(test(doc) for test in tests)]


def _equals(field: str, wanted: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda doc: str(doc.get(field)).lower() == wanted.lower()


def _within(created_at: str, start: date | None, end: date | None) -> bool:
    day = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(timezone.utc).date()
    return (start is None or day >= start) and (end is None or day <= end)


def _day(query: Mapping[str, str], key: str) -> date | None:
    text = query.get(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        bad_request(f"{key} must be a date as YYYY-MM-DD, got {text!r}")
