"""``client.webhooks``: tell Ecart Pay where to send events (``POST /api/webhooks``).

A registration carries no idempotency key, so it is sent again only after a failure
that proves it never reached the server; after one that may have (a timeout, a 5xx)
the error is raised rather than risk a second registration, whose deliveries would
arrive twice (the receiver's deduplication would absorb them, but the cost is real).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from ..errors import ValidationError
from ..models.webhooks import Webhook
from ._base import Resource

__all__ = ["AsyncWebhooks"]

WEBHOOKS = "/api/webhooks"
_MAX_URL_LENGTH = 2048


class AsyncWebhooks(Resource):
    """Webhook registrations: which events are delivered, and to which URL."""

    async def register(
        self,
        url: str,
        events: Sequence[str],
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Webhook:
        """Deliver ``events`` (names such as ``transfer.created``, or patterns such as
        ``orders.*``) to ``url``, an ``http(s)://`` address that Ecart Pay can reach.

        Serve :class:`ecartpay_async.webhooks.WebhookReceiver` at that URL to verify and
        handle what arrives.
        """
        body = {"url": _check_url(url), "events": _check_events(events)}
        data = await self._send_once("POST", WEBHOOKS, body, max_retries, timeout)
        return self._structure(data, Webhook, "POST", WEBHOOKS)


def _check_url(url: object) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("url", "must be a non-empty http:// or https:// address")
    text = url.strip()
    if len(text) > _MAX_URL_LENGTH:
        raise ValidationError("url", f"must be at most {_MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValidationError("url", f"must be an http:// or https:// address, got {url!r}")
    return text


def _check_events(events: object) -> list[str]:
    if isinstance(events, (str, bytes)) or not isinstance(events, Sequence):
        raise ValidationError("events", "must be a list of event names, such as ['transfer.*']")
    if not events:
        raise ValidationError("events", "must name at least one event")
    checked = []
    for index, event in enumerate(events):
        if not isinstance(event, str) or not event.strip():
            raise ValidationError(f"events[{index}]", "must be a non-empty event name")
        checked.append(event.strip())
    return checked
