"""``client.orders``: create orders (optionally paying a seller a split), retrieve, refund.

Orders carry no idempotency key, so a create or a refund is retried only after a
failure that proves the request never reached the server (a refused connection, a
429). After one that may have reached it (a timeout, a lost connection, a 5xx) the
error is raised: sending again could create a second order or refund twice. Reads
retry per the client's policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx

from ..errors import ValidationError
from ..models.common import check_text, check_visible
from ..models.orders import (
    REFUND_REASONS,
    Order,
    OrderItem,
    OrderPayout,
    OrderStatus,
    RefundReason,
)
from ..money import check_amount, check_currency
from ._base import Resource, path_id

__all__ = ["AsyncOrders"]

ORDERS = "/api/orders"


@contextmanager
def _field_prefix(prefix: str) -> Iterator[None]:
    """Re-raise a model's ValidationError with the field's place in the request."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(f"{prefix}.{exc.field}", exc.reason) from None


class AsyncOrders(Resource):
    """Orders: payments customers make to you, optionally split with a seller."""

    async def create(
        self,
        *,
        currency: str,
        items: Sequence[OrderItem | Mapping[str, Any]],
        customer_id: str | None = None,
        payout: OrderPayout | Mapping[str, Any] | None = None,
        notify_url: str | None = None,
        redirect_url: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Order:
        """Create an order; with ``payout``, the seller is paid once the order is paid.

        ``items`` are :class:`OrderItem` or mappings with ``name``, ``quantity``,
        ``price`` and optionally ``code``; ``payout`` an :class:`OrderPayout` or a
        mapping with ``email``, ``amount`` and optionally ``percent``. Everything is
        checked before sending (prices and a fixed payout against the currency's minor
        unit; a payout to the client's own ``account_email`` is refused, as the API
        refuses it), naming the field: ``items[1].price``, ``payout.email``.
        ``extra_body`` adds other documented fields (``email``, ``first_name``,
        ``shipping_address``...) as given.
        """
        body = self._order_body(
            currency=currency,
            items=items,
            customer_id=customer_id,
            payout=payout,
            notify_url=notify_url,
            redirect_url=redirect_url,
            extra_body=extra_body,
        )
        data = await self._send_once("POST", ORDERS, body, max_retries, timeout)
        return self._structure(data, Order, "POST", ORDERS)

    def _order_body(
        self,
        *,
        currency: str,
        items: Sequence[OrderItem | Mapping[str, Any]],
        customer_id: str | None,
        payout: OrderPayout | Mapping[str, Any] | None,
        notify_url: str | None,
        redirect_url: str | None,
        extra_body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        code = check_currency(currency)
        body: dict[str, Any] = {}
        if customer_id is not None:
            body["customer_id"] = check_text(customer_id, field="customer_id").strip()
        body["currency"] = code
        body["items"] = [item.to_body() for item in _order_items(items, code)]
        for name, url in (("notify_url", notify_url), ("redirect_url", redirect_url)):
            if url is not None:
                if not isinstance(url, str):
                    raise ValidationError(name, "must be a string")
                body[name] = check_visible(url, field=name)
        if payout is not None:
            body["payout"] = self._order_payout(payout, code).to_body()
        for key, value in (extra_body or {}).items():
            if key in body:
                raise ValidationError(key, "is a named argument of create(), not extra_body")
            body[key] = value
        return body

    def _order_payout(self, payout: OrderPayout | Mapping[str, Any], currency: str) -> OrderPayout:
        if not isinstance(payout, (OrderPayout, Mapping)):
            raise ValidationError("payout", "must be an OrderPayout or a mapping")
        with _field_prefix("payout"):
            if isinstance(payout, Mapping):
                payout = OrderPayout.from_mapping(payout)
            payout.check_currency(currency)
        own = self._client.account_email
        if own is not None and payout.email.casefold() == own.casefold():
            raise ValidationError(
                "payout.email", "must differ from the account's own email (account_email)"
            )
        return payout

    async def retrieve(
        self,
        order_id: str,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Order:
        path = f"{ORDERS}/{path_id(order_id, 'order_id')}"
        data = await self._request("GET", path, max_retries=max_retries, timeout=timeout)
        return self._structure(data, Order, "GET", path)

    async def refund(
        self,
        order_id: str,
        *,
        amount: Decimal | int | str | None = None,
        reason: RefundReason = "requested",
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Order:
        """Refund ``amount`` of a paid order (all of it when omitted) and return the order.

        ``reason`` is ``requested``, ``duplicate`` or ``fraudulent``. Without
        ``amount`` the order is read first and its total refunded; an order already
        partially refunded needs an explicit ``amount``.
        """
        if reason not in REFUND_REASONS:
            choices = ", ".join(sorted(REFUND_REASONS))
            raise ValidationError("reason", f"must be one of {choices}, got {reason!r}")
        order_path = f"{ORDERS}/{path_id(order_id, 'order_id')}"
        if amount is None:
            value = _full_refund_amount(await self.retrieve(order_id, timeout=timeout))
        else:
            value = check_amount(amount, None)
        path = f"{order_path}/refund"
        data = await self._send_once(
            "POST", path, {"amount": value, "name": reason}, max_retries, timeout
        )
        # The answer's shape is undocumented: use it when it is this order, else re-read.
        if isinstance(data, Mapping) and data.get("id") == order_id:
            return self._structure(data, Order, "POST", path)
        return await self.retrieve(order_id, timeout=timeout)


def _order_items(items: Sequence[OrderItem | Mapping[str, Any]], currency: str) -> list[OrderItem]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise ValidationError("items", "must be a list of OrderItem or mappings")
    if not items:
        raise ValidationError("items", "must hold at least one item")
    checked = []
    for index, item in enumerate(items):
        if not isinstance(item, (OrderItem, Mapping)):
            raise ValidationError(f"items[{index}]", "must be an OrderItem or a mapping")
        with _field_prefix(f"items[{index}]"):
            if isinstance(item, Mapping):
                item = OrderItem.from_mapping(item)
            check_amount(item.price, currency, field="price", allow_zero=True)
        checked.append(item)
    return checked


def _full_refund_amount(order: Order) -> Decimal:
    if order.status == OrderStatus.PARTIALLY_REFUNDED:
        raise ValidationError("amount", "is required: the order is already partially refunded")
    if order.total is None or order.total <= 0:
        raise ValidationError("amount", "is required: the order's total is unknown")
    return order.total
