"""Order models: what a user asks for (:class:`OrderItem`, :class:`OrderPayout`) and the
:class:`Order` the API answers.

Request models validate when they are built, as :class:`~.payouts.PayoutRequest` does;
answer models are tolerant: every field but ``id`` may be missing, unknown statuses
stay strings, and unknown fields land in ``extra``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

import attrs

from .._convert import converter
from .._reprs import safe_repr
from ..errors import ValidationError
from ..money import check_amount, to_decimal
from .common import ExtraFields, check_email, check_text

__all__ = [
    "REFUND_REASONS",
    "Order",
    "OrderItem",
    "OrderLine",
    "OrderPayout",
    "OrderPayoutEcho",
    "OrderStatus",
    "OrderTotals",
    "RefundReason",
]

#: Why an order is refunded, as ``POST /api/orders/{order_id}/refund`` accepts it.
RefundReason = Literal["requested", "duplicate", "fraudulent"]
REFUND_REASONS: Final[frozenset[str]] = frozenset({"requested", "duplicate", "fraudulent"})


class OrderStatus(str, enum.Enum):
    """Order statuses the API documents; any other value stays a plain string."""

    CREATED = "created"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"

    def __str__(self) -> str:
        return self.value


def _reject_unknown(data: Mapping[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValidationError(unknown[0], f"is not {what} field")


@safe_repr
@attrs.frozen(slots=True, init=False)  # validated in __init__; type checkers see it
class OrderItem:
    """A line of an order to create: ``name``, ``quantity`` > 0, ``price`` >= 0.

    ``quantity`` and ``price`` accept Decimal, int or numeric strings (a float is read
    through ``str()``). ``price`` may carry at most two decimals here; the order's
    currency is checked when the order is created (a CLP price takes none).
    """

    name: str
    quantity: Decimal
    price: Decimal
    code: str | None = None

    def __init__(self, name: str, quantity: object, price: object, code: str | None = None) -> None:
        name = check_text(name, field="name")
        count = to_decimal(quantity, field="quantity")
        if count <= 0:
            raise ValidationError("quantity", f"must be greater than 0, got {count}")
        if code is not None:
            code = check_text(code, field="code")
        self.__attrs_init__(
            name=name,
            quantity=count,
            price=check_amount(price, None, field="price", allow_zero=True),
            code=code,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OrderItem:
        """Build from a mapping such as ``{"name": ..., "quantity": 1, "price": "10.00"}``."""
        _reject_unknown(data, _ITEM_FIELDS, "an order item")
        for required in ("name", "quantity", "price"):
            if required not in data:
                raise ValidationError(required, "is required")
        return cls(**data)

    def to_body(self) -> dict[str, Any]:
        """The item as ``POST /api/orders`` takes it (numbers stay Decimals)."""
        body: dict[str, Any] = {}
        if self.code is not None:
            body["code"] = self.code
        body.update(name=self.name, quantity=self.quantity, price=self.price)
        return body


_ITEM_FIELDS: Final = frozenset({"name", "quantity", "price", "code"})


@safe_repr
@attrs.frozen(slots=True, init=False)  # validated in __init__; type checkers see it
class OrderPayout:
    """The payout an order makes to a seller once it is paid.

    ``amount`` is a fixed amount in the order's currency, or with ``percent=True`` a
    percentage (0 < amount <= 100) of the post-fee balance. Validated at
    construction: ``email`` required and well formed, ``amount`` > 0. A fixed amount
    is checked against the order currency's minor unit when the order is created
    (:meth:`check_currency`). :func:`ecartpay_async.splits.order_payout_amount`
    predicts what the seller receives.
    """

    email: str
    amount: Decimal
    percent: bool = False

    def __init__(self, email: str, amount: object, percent: bool = False) -> None:
        email = check_email(email)
        if not isinstance(percent, bool):
            raise ValidationError("percent", "must be true or false")
        value = to_decimal(amount, field="amount")
        if value <= 0:
            raise ValidationError("amount", f"must be greater than 0, got {value}")
        if percent and value > 100:
            raise ValidationError("amount", f"a percentage must be at most 100, got {value}")
        if not percent:
            value = check_amount(value, None)
        self.__attrs_init__(email=email, amount=value, percent=percent)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OrderPayout:
        """Build from a mapping such as ``{"email": ..., "amount": 10, "percent": True}``."""
        _reject_unknown(data, _PAYOUT_FIELDS, "an order payout")
        for required in ("email", "amount"):
            if required not in data:
                raise ValidationError(required, "is required")
        return cls(**data)

    def check_currency(self, currency: str) -> None:
        """Refuse a fixed amount with more decimals than ``currency`` allows."""
        if not self.percent:
            check_amount(self.amount, currency)

    def to_body(self) -> dict[str, Any]:
        """The ``payout`` object of ``POST /api/orders``."""
        return {"email": self.email, "amount": self.amount, "percent": self.percent}


_PAYOUT_FIELDS: Final = frozenset({"email", "amount", "percent"})


@safe_repr
@attrs.frozen(slots=True)
class OrderLine(ExtraFields):
    """A line of an order as the API reports it (with its computed totals)."""

    name: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    code: str | None = None
    discount: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
@attrs.frozen(slots=True)
class OrderTotals(ExtraFields):
    """An order's ``totals``: what the customer pays, before Ecart Pay's fee."""

    subtotal: Decimal | None = None
    total: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None
    shipping: Decimal | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
@attrs.frozen(slots=True)
class OrderPayoutEcho(ExtraFields):
    """The ``payout`` an order answer echoes back; the API's ``_id`` is ``id`` here."""

    email: str | None = None
    amount: Decimal | None = None
    percent: bool | None = None
    id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
@attrs.frozen(slots=True)
class Order(ExtraFields):
    """An order as the API reports it.

    ``status`` is an :class:`OrderStatus` or, for a value the SDK does not know, the
    string; amounts are exact Decimals; ``fee`` is Ecart Pay's fee once the order is
    paid. Fields the API adds later land in ``extra`` (and read as attributes).
    """

    id: str
    number: str | None = None
    status: OrderStatus | str | None = None
    currency: str | None = None
    items: tuple[OrderLine, ...] = ()
    totals: OrderTotals | None = None
    fee: Decimal | None = None
    pay_link: str | None = None
    payout: OrderPayoutEcho | None = None
    account_id: str | None = None
    authorization_id: str | None = None
    customer_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    notify_url: str | None = None
    redirect_url: str | None = None
    confirmed: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_paid(self) -> bool:
        return self.status == OrderStatus.PAID

    @property
    def total(self) -> Decimal | None:
        """``totals.total``, when the answer carries it."""
        return None if self.totals is None else self.totals.total


# The API calls the echo's id ``_id``: renamed both ways on the one converter.
_structure_echo = converter.get_structure_hook(OrderPayoutEcho)
_unstructure_echo = converter.get_unstructure_hook(OrderPayoutEcho)


def _echo_from_api(data: Any, cls: Any) -> OrderPayoutEcho:
    if isinstance(data, Mapping):
        data = {("id" if key == "_id" else key): value for key, value in data.items()}
    return _structure_echo(data, cls)  # type: ignore[no-any-return]


def _echo_to_api(echo: OrderPayoutEcho) -> dict[str, Any]:
    return {("_id" if key == "id" else key): v for key, v in _unstructure_echo(echo).items()}


converter.register_structure_hook(OrderPayoutEcho, _echo_from_api)
converter.register_unstructure_hook(OrderPayoutEcho, _echo_to_api)
converter.register_unstructure_hook(OrderStatus, lambda status: status.value)
