"""Signed webhook deliveries with Ecart Pay's retry schedule.

Each delivery is ``POST url`` with body ``{"event": ..., "data": ...}`` serialized as
JavaScript's ``JSON.stringify`` would, and headers ``x-pay-timestamp`` (ms),
``x-pay-webhook-id`` (the delivery's id, the same on every retry) and
``x-pay-signature: SHA256=<hex>``, the HMAC-SHA256 with the account's webhook secret
of ``{timestamp}.{webhook_id}.{JSON.stringify(data)}``. A 2xx ends it, a 4xx ends it
as failed, anything else (5xx, timeout, refused) is retried: 5 attempts, waiting
10, 15, 20 and 25 s between them, times ``retry_scale`` (tests use 0.01).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Final

import anyio
import anyio.abc
import httpx

from .records import Delivery
from .state import SandboxState
from .wire import stringify

__all__ = ["RETRY_DELAYS", "WebhookDispatcher", "signature"]

RETRY_DELAYS: Final = (10.0, 15.0, 20.0, 25.0, 30.0)
ATTEMPTS: Final = 5
RECEIVER_TIMEOUT: Final = 5.0


def signature(secret: str, timestamp: str, webhook_id: str, data: Any) -> str:
    """The ``x-pay-signature`` value for one delivery."""
    message = f"{timestamp}.{webhook_id}.{stringify(data)}".encode()
    return "SHA256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Sends deliveries from a task group that lives as long as the server."""

    def __init__(
        self,
        state: SandboxState,
        *,
        retry_scale: float = 1.0,
        attempts: int = ATTEMPTS,
        timeout: float = RECEIVER_TIMEOUT,
    ) -> None:
        self._state = state
        self._retry_scale = retry_scale
        self._attempts = attempts
        self._timeout = timeout
        self._backlog: list[Delivery] = []
        self._client: httpx.AsyncClient | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    def submit(self, deliveries: Iterable[Delivery]) -> None:
        """Start sending (from inside the server's event loop)."""
        for delivery in deliveries:
            if self._tg is None:
                self._backlog.append(delivery)
            else:
                self._tg.start_soon(self._deliver, delivery)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                backlog, self._backlog = self._backlog, []
                self.submit(backlog)
                try:
                    yield
                finally:
                    self._tg = None
                    tg.cancel_scope.cancel()
        finally:
            if self._client is not None:
                client, self._client = self._client, None
                with anyio.CancelScope(shield=True):
                    await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        # Made on first use: building one costs an SSL context, tens of milliseconds
        # that every sandbox start would pay even when no webhook is ever sent.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def _deliver(self, delivery: Delivery) -> None:
        client = self._http()
        secret = self._state.webhook_secret(delivery.account_id)
        body = stringify({"event": delivery.event, "data": delivery.data}).encode()
        for attempt in range(self._attempts):
            if attempt:
                await anyio.sleep(RETRY_DELAYS[attempt - 1] * self._retry_scale)
            timestamp = str(int(time.time() * 1000))
            headers = {
                "content-type": "application/json",
                "x-pay-timestamp": timestamp,
                "x-pay-webhook-id": delivery.id,
                "x-pay-signature": signature(secret, timestamp, delivery.id, delivery.data),
            }
            try:
                response = await client.post(delivery.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self._record(delivery, {"error": type(exc).__name__}, None)
                continue
            code = response.status_code
            if 200 <= code < 300:
                self._record(delivery, {"status": code}, "delivered")
                return
            if 400 <= code < 500:
                self._record(delivery, {"status": code}, "failed")
                return
            self._record(delivery, {"status": code}, None)
        self._record(delivery, None, "failed")

    def _record(
        self, delivery: Delivery, attempt: dict[str, Any] | None, status: str | None
    ) -> None:
        with self._state.lock:
            if attempt is not None:
                delivery.attempts.append(attempt)
            if status is not None:
                delivery.status = status
