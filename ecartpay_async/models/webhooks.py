"""Webhooks: a registration (:class:`Webhook`) and the event a verified delivery carries
(see :mod:`ecartpay_async.webhooks`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from .._convert import ShapeError, structure
from .._reprs import safe_repr
from .common import ExtraFields
from .orders import Order
from .payouts import Payout

__all__ = ["Webhook", "WebhookEvent", "structure_event_data"]

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
@attrs.frozen(slots=True)
class WebhookEvent:
    """A webhook delivery whose signature and timestamp were verified.

    ``event`` is the event name (``orders.confirmation``, ``transfer.created``...),
    ``id`` the delivery's ``x-pay-webhook-id`` and ``timestamp`` its
    ``x-pay-timestamp`` as an aware UTC datetime. ``data`` is an
    :class:`~.orders.Order` for ``orders.*`` events, a :class:`~.payouts.Payout` for
    transfer and payout events, when it fits those models, and the decoded mapping
    otherwise (numbers as Decimal). ``raw`` is the whole decoded body.
    """

    event: str
    id: str
    timestamp: datetime
    data: Order | Payout | Any
    raw: Mapping[str, Any] = attrs.field(repr=False)


def structure_event_data(event: str, data: Any) -> Order | Payout | Any:
    """``data`` as the model its ``event`` names, or unchanged when it does not fit one."""
    for prefixes, model in _MODELS:
        if event.startswith(prefixes):
            try:
                return structure(data, model)
            except ShapeError:
                return data
    return data
