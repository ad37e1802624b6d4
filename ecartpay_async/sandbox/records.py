"""What the sandbox stores: accounts, payouts, orders, webhooks and deliveries.

Mutable attrs classes (state changes them under its lock); ``to_json`` gives the
API's answer shape with exact Decimal amounts. Secrets are kept out of reprs.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from attrs import define, field

from ._reprs import safe_repr

__all__ = ["Account", "Delivery", "IdFactory", "Order", "Payout", "Webhook", "Withdrawal", "iso"]


def iso(timestamp: float) -> str:
    """Epoch seconds in the API's form, ``2021-11-29T20:49:23.889Z``."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class IdFactory:
    """24-hex ids shaped like MongoDB ObjectIds: seconds, 5 random bytes, a counter."""

    def __init__(self, seed: int | None = None) -> None:
        rng = random.Random(seed) if seed is not None else random.Random(os.urandom(16))
        self._machine = rng.getrandbits(40)
        self._counter = rng.getrandbits(24)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self._counter = (self._counter + 1) & 0xFFFFFF
            counter = self._counter
        return f"{int(time.time()) & 0xFFFFFFFF:08x}{self._machine:010x}{counter:06x}"


@safe_repr
@define
class Account:
    id: str
    email: str
    authorization_id: str
    public_key: str | None = None
    private_key: str | None = field(default=None, repr=False)
    webhook_secret: str = field(default="", repr=False)
    balances: dict[str, Decimal] = field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        # No key of either half: the state route is readable by anyone who can reach it.
        return {"id": self.id, "email": self.email, "balances": dict(self.balances)}


@safe_repr
@define
class Payout:
    id: str
    account_id: str
    authorization_id: str
    reference_id: str
    reference: str
    status: str
    currency: str
    amount: Decimal
    require_confirmation: bool
    created_at: float
    updated_at: float
    available_at: float
    email: str | None = None
    recipient_id: str | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None
    transactions: list[dict[str, Any]] = field(factory=list)
    order_id: str | None = None
    items: list[dict[str, Any]] | None = None
    charges: list[dict[str, Any]] | None = None

    def to_json(self, *, email: bool = True) -> dict[str, Any]:
        """The payout as JSON; ``email=False`` leaves the recipient's address out, as
        every payout answer in Ecart Pay's OpenAPI file does."""
        out: dict[str, Any] = {
            "id": self.id,
            "authorization_id": self.authorization_id,
            "account_id": self.account_id,
            "reference_id": self.reference_id,
            "reference": self.reference,
            "status": self.status,
            "currency": self.currency,
            "amount": self.amount,
            "fee": 0,
            "exchange": 1,
            "available_at": iso(self.available_at),
            "require_confirmation": self.require_confirmation,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if email and self.email is not None:
            out["email"] = self.email
        if self.customer_id is not None:
            out["customer_id"] = self.customer_id
            out["payment_method_id"] = self.payment_method_id
            out["transactions"] = [dict(t) for t in self.transactions]
        if self.order_id is not None:
            out["order_id"] = self.order_id
        if self.items is not None:
            out["items"] = self.items
        if self.charges is not None:
            out["charges"] = self.charges
        return out


@safe_repr
@define
class Order:
    id: str
    account_id: str
    authorization_id: str
    number: str
    customer_id: str
    currency: str
    items: list[dict[str, Any]]
    total: Decimal
    created_at: float
    updated_at: float
    pay_link: str
    contact: dict[str, str]
    notify_url: str = ""
    redirect_url: str = ""
    payout: dict[str, Any] | None = None
    status: str = "created"
    fee: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    refunds: list[dict[str, Any]] = field(factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "account_id": self.account_id,
            "authorization_id": self.authorization_id,
            "customer_id": self.customer_id,
            "type": "order",
            "number": self.number,
            "status": self.status,
            **self.contact,
            "currency": self.currency,
            "items": [dict(item) for item in self.items],
            "shipping_items": [],
            "discounts": [],
            "totals": {
                "subtotal": self.total,
                "total": self.total,
                "tax": 0,
                "discount": 0,
                "shipping": 0,
            },
            "risk_score": 0,
            "risk_notes": [],
            "fee": self.fee,
            "confirmed": self.status != "created",
            "confirm": False,
            "notify_url": self.notify_url,
            "redirect_url": self.redirect_url,
            "auto_billing": False,
            "refunds": [dict(r) for r in self.refunds],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "pay_link": self.pay_link,
        }
        if self.payout is not None:
            out["payout"] = dict(self.payout)
        return out


@safe_repr
@define
class Webhook:
    id: str
    account_id: str
    url: str
    events: list[str]
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "url": self.url,
            "events": list(self.events),
            "created_at": iso(self.created_at),
        }


@safe_repr
@define
class Delivery:
    """One event to one webhook; ``attempts`` records each try's status or error."""

    id: str
    webhook_id: str
    account_id: str
    url: str
    event: str
    data: dict[str, Any]
    status: str = "pending"
    attempts: list[dict[str, Any]] = field(factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "url": self.url,
            "event": self.event,
            "status": self.status,
            "attempts": [dict(a) for a in self.attempts],
            "data": self.data,
        }


@safe_repr
@define
class Withdrawal:
    """Money taken out of an account's balance to its bank (``/_sandbox/withdrawals``)."""

    id: str
    account_id: str
    reference: str
    status: str
    currency: str
    amount: Decimal
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "reference": self.reference,
            "status": self.status,
            "currency": self.currency,
            "amount": self.amount,
            "fee": 0,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
