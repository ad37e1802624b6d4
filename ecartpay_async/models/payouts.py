"""Payout models: what a user asks for (:class:`PayoutRequest`) and what the API answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._reprs import safe_repr
from ..errors import ValidationError
from ..money import check_amount, check_currency, to_decimal
from .common import ExtraFields, PayoutStatus, check_email, check_text

__all__ = [
    "Page",
    "Payout",
    "PayoutCharge",
    "PayoutItem",
    "PayoutRequest",
    "PayoutStatus",
    "Transaction",
]


@safe_repr
@attrs.frozen(slots=True, init=False)
class PayoutRequest:
    """A payout to send, validated when it is built: bad input never reaches the wire.

    Two shapes, as the API documents them:

    * to an Ecart Pay account: ``email``, ``reference_id``, ``amount``, ``currency``;
    * to a customer's saved payment method: ``customer_id``, ``payment_method_id``,
      ``amount``, ``currency`` (``reference_id`` optional but strongly advised:
      without it a payout whose answer was lost cannot be looked up, so it is never
      sent again automatically).

    ``reference_id`` is the idempotency key: the SDK sends it unchanged on every
    retry and restart, and one reference_id always means one payout.
    ``amount`` accepts Decimal, int or a numeric string (a float is read through
    ``str()``), and must fit the currency's minor unit.
    """

    amount: Decimal
    currency: str
    email: str | None = None
    reference_id: str | None = None
    require_confirmation: bool = False
    customer_id: str | None = None
    payment_method_id: str | None = None

    def __init__(
        self,
        *,
        amount: object,
        currency: str,
        email: str | None = None,
        reference_id: str | None = None,
        require_confirmation: bool = False,
        customer_id: str | None = None,
        payment_method_id: str | None = None,
    ) -> None:
        code = check_currency(currency)
        by_customer = customer_id is not None or payment_method_id is not None
        if by_customer:
            if email is not None:
                raise ValidationError(
                    "email", "give either email or customer_id + payment_method_id, not both"
                )
            customer_id = check_text(customer_id, field="customer_id")
            payment_method_id = check_text(payment_method_id, field="payment_method_id")
        else:
            email = check_email(email)
            if reference_id is None:
                raise ValidationError("reference_id", "is required (it is the idempotency key)")
        if reference_id is not None:
            reference_id = check_text(reference_id, field="reference_id").strip()
        if not isinstance(require_confirmation, bool):
            raise ValidationError("require_confirmation", "must be true or false")
        self.__attrs_init__(  # by position, in field order (a payout per row: it adds up)
            check_amount(amount, code), code, email, reference_id, require_confirmation,
            customer_id, payment_method_id,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PayoutRequest:
        """Build from a mapping (a CSV row, a JSON object); unknown keys are refused."""
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(unknown[0], "is not a payout field")
        if "amount" not in data:
            raise ValidationError("amount", "is required")
        if "currency" not in data:
            raise ValidationError("currency", "is required")
        return cls(**data)

    def to_body(self) -> dict[str, Any]:
        """The JSON body for ``POST /api/payouts`` (amount stays a Decimal)."""
        body: dict[str, Any] = {"amount": self.amount, "currency": self.currency}
        if self.email is not None:
            body["email"] = self.email
        if self.reference_id is not None:
            body["reference_id"] = self.reference_id
        if self.customer_id is not None:
            body["customer_id"] = self.customer_id
            body["payment_method_id"] = self.payment_method_id
        body["require_confirmation"] = self.require_confirmation
        return body


@safe_repr
@attrs.frozen(slots=True)
class Transaction(ExtraFields):
    """A movement behind a customer payout (``type`` is ``charge`` or ``payment``)."""

    id: str | None = None
    account_id: str | None = None
    transaction_id: str | None = None
    type: str | None = None
    status: PayoutStatus | str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None
    currency: str | None = None
    gateway: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
@attrs.frozen(slots=True)
class Payout(ExtraFields):
    """A payout as the API reports it.

    Amounts are exact Decimals, timestamps aware UTC datetimes, ``status`` a
    :class:`PayoutStatus` or, for a status the SDK does not know, the string.
    Fields the API adds later land in ``extra`` (and read as attributes).
    """

    id: str
    status: PayoutStatus | str
    amount: Decimal
    currency: str
    reference_id: str | None = None
    reference: str | None = None
    account_id: str | None = None
    authorization_id: str | None = None
    email: str | None = None
    fee: Decimal | None = None
    exchange: Decimal | None = None
    require_confirmation: bool | None = None
    available_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None
    transactions: tuple[Transaction, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_paid(self) -> bool:
        return self.status == PayoutStatus.PAID

    @property
    def is_pending(self) -> bool:
        return self.status == PayoutStatus.PENDING


def _non_negative(instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value < 0:
        raise ValidationError(attribute.name, f"must not be negative, got {value}")


def _positive(instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value <= 0:
        raise ValidationError(attribute.name, f"must be greater than 0, got {value}")


def _decimal(value: object) -> Decimal:
    return to_decimal(value, field="number")


def _text(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_text(value, field=attribute.name)


@safe_repr
@attrs.frozen(slots=True)
class PayoutItem:
    """A line of a payout's itemised detail (``PUT /api/payouts/{id}``)."""

    name: str = attrs.field(validator=_text)
    quantity: Decimal = attrs.field(converter=_decimal, validator=_positive)
    price: Decimal = attrs.field(converter=_decimal, validator=_non_negative)
    discount: Decimal = attrs.field(default=Decimal(0), converter=_decimal, validator=_non_negative)


@safe_repr
@attrs.frozen(slots=True)
class PayoutCharge:
    """A charge deducted in a payout's detail, such as a fee (``name``, ``amount``)."""

    name: str = attrs.field(validator=_text)
    amount: Decimal = attrs.field(converter=_decimal, validator=_non_negative)


@safe_repr
@attrs.frozen(slots=True)
class Page:
    """One page of a list answer: ``docs`` plus the envelope's ``count`` and ``pages``.

    A bare JSON array is read as a page with ``count`` and ``pages`` unknown (None).
    """

    docs: tuple[Any, ...]
    count: int | None = None
    pages: int | None = None
