"""Webhooks: a registration (:class:`Webhook`) and the event a verified delivery carries
(see :mod:`ecartpay_async.webhooks`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from .._convert import ShapeError, structure
from .._reprs import safe_repr
from .common import ExtraFields
from .orders import Order
from .payouts import Payout

__all__ = ["UnknownEventData", "Webhook", "WebhookEvent", "structure_event_data"]

# Event-name prefixes and the model their ``data`` is read as.
_MODELS: Final[tuple[tuple[tuple[str, ...], type[Any]], ...]] = (
    (("orders.",), Order),
    (("transfer.", "transfers.", "payout.", "payouts."), Payout),
)


@safe_repr
@attrs.frozen(slots=True)
class Webhook(ExtraFields):
    """A webhook registration (``POST /api/webhooks``): where events are sent, and which.

    ``events`` are names or ``*`` patterns (``transfer.*``). Fields the API adds land
    in ``extra``.
    """

    url: str
    events: tuple[str, ...] = ()
    id: str | None = None
    account_id: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@safe_repr
class UnknownEventData(Mapping[str, Any]):
    """The ``data`` of an event that does not fit the model its name promises (a
    ``transfer.created`` without a payout's fields, say): still the decoded mapping
    (numbers as Decimal), typed so that a handler can tell it from a model.

    ``expected`` names the model (``"Payout"``), ``reason`` why it did not fit.
    """

    __slots__ = ("_fields", "expected", "reason")

    def __init__(self, fields: Mapping[str, Any], *, expected: str, reason: str) -> None:
        self._fields = dict(fields)
        self.expected = expected
        self.reason = reason

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        # Names only: the values may be personal data.
        return f"UnknownEventData(expected={self.expected!r}, fields={sorted(self._fields)!r})"


@safe_repr
@attrs.frozen(slots=True)
class WebhookEvent:
    """A webhook delivery whose signature and timestamp were verified.

    ``event`` is the event name (``orders.confirmation``, ``transfer.created``...),
    ``id`` the delivery's ``x-pay-webhook-id`` and ``timestamp`` its
    ``x-pay-timestamp`` as an aware UTC datetime. ``data`` is an
    :class:`~.orders.Order` for ``orders.*`` events, a :class:`~.payouts.Payout` for
    transfer and payout events, an :class:`UnknownEventData` when such an event's
    ``data`` does not fit its model, and the decoded mapping for other events
    (numbers as Decimal). ``raw`` is the whole decoded body.
    """

    event: str
    id: str
    timestamp: datetime
    data: Order | Payout | UnknownEventData | Any
    raw: Mapping[str, Any] = attrs.field(repr=False)


def structure_event_data(event: str, data: Any) -> Order | Payout | UnknownEventData | Any:
    """``data`` as the model its ``event`` names, an :class:`UnknownEventData` when it
    does not fit that model, or unchanged for an event without a model."""
    for prefixes, model in _MODELS:
        if event.startswith(prefixes):
            if not isinstance(data, Mapping):
                return data
            try:
                return structure(data, model)
            except ShapeError as exc:
                return UnknownEventData(data, expected=model.__name__, reason=str(exc))
    return data
