"""Webhooks: verify a delivery, and receive them in an ASGI app.

- :func:`verify_webhook`: the HMAC check of one delivery, returning a typed
  :class:`WebhookEvent` (:mod:`._verify`).
- :class:`WebhookReceiver`: an ASGI app (Starlette, FastAPI, uvicorn) that verifies,
  deduplicates by ``x-pay-webhook-id`` and hands events to handlers (:mod:`.receiver`).
- :class:`DeliveryStore` and its two stores, in memory and in SQLite (:mod:`.stores`).
"""

from ..models.webhooks import UnknownEventData, WebhookEvent
from ._verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER, verify_webhook
from .receiver import Handler, WebhookReceiver
from .stores import Claim, DeliveryStore, MemoryDeliveryStore, SQLiteDeliveryStore

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOK_ID_HEADER",
    "Claim",
    "DeliveryStore",
    "Handler",
    "MemoryDeliveryStore",
    "SQLiteDeliveryStore",
    "UnknownEventData",
    "WebhookEvent",
    "WebhookReceiver",
    "verify_webhook",
]
