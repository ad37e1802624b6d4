"""End to end over real HTTP: the sandbox signs and delivers, uvicorn serves the receiver.

The receiver is registered with ``client.webhooks.register`` and mounted in Starlette
(or served bare), and each delivery's fate is read back from the sandbox's records:
a normal delivery, a redelivery of the same id, a replay with a bad signature, and a
handler that fails once and succeeds on Ecart Pay's retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ecartpay_async import AsyncClient, Payout, Webhook, _json
from ecartpay_async.sandbox import Sandbox
from ecartpay_async.sandbox.records import Delivery
from ecartpay_async.sandbox.webhooks import signature
from ecartpay_async.webhooks import SQLiteDeliveryStore, WebhookEvent, WebhookReceiver

from ._util import served

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end, pytest.mark.clock]

SELLER = "seller@sellers.example"


@asynccontextmanager
async def setup(
    receiver: WebhookReceiver, *, mount: bool = True
) -> AsyncIterator[tuple[Sandbox, AsyncClient]]:
    """A sandbox whose merchant's webhooks go to ``receiver`` (served on loopback)."""
    app = Starlette(routes=[Mount("/webhooks/ecartpay", receiver)]) if mount else receiver
    async with Sandbox(webhook_secret=receiver_secret(receiver), webhook_retry_scale=0.01) as sb:
        with served(app) as origin:
            async with sb.client() as client:
                # Mounted, the receiver's URL ends with "/" (Starlette redirects without it).
                url = f"{origin}/webhooks/ecartpay/" if mount else origin
                webhook = await client.webhooks.register(url, ["transfer.*"])
                assert isinstance(webhook, Webhook)
                assert webhook.url == url
                assert webhook.events == ("transfer.*",)
                assert webhook.id
                yield sb, client


def receiver_secret(receiver: WebhookReceiver) -> str:
    return receiver._secret


async def pay(client: AsyncClient, reference_id: str = "settle-1") -> Payout:
    return await client.payouts.create(email=SELLER, reference_id=reference_id,
                                       amount=Decimal("962.18"), currency="MXN")


async def settled(sb: Sandbox, attempts: int, count: int = 1) -> list[Delivery]:
    """Until ``count`` deliveries are finished with at least ``attempts`` attempts each."""
    with anyio.fail_after(20):
        while True:
            found = [d for d in sb.state.deliveries()
                     if d.status != "pending" and len(d.attempts) >= attempts]
            if len(found) >= count:
                return found
            await anyio.sleep(0.01)


def recorder(receiver: WebhookReceiver, fail_first: int = 0) -> list[WebhookEvent]:
    seen: list[WebhookEvent] = []

    @receiver.on("transfer.created")
    async def record(event: WebhookEvent) -> None:
        seen.append(event)
        if len(seen) <= fail_first:
            raise RuntimeError("the ledger is down")

    return seen


async def test_a_delivery_is_verified_handled_and_redelivery_is_deduplicated():
    receiver = WebhookReceiver("whsec_e2e_secret")
    seen = recorder(receiver)
    async with setup(receiver) as (sb, client):
        payout = await pay(client)
        [delivery] = await settled(sb, attempts=1)
        assert delivery.status == "delivered", delivery.attempts
        assert delivery.attempts == [{"status": 200}]
        [event] = seen
        assert event.id == delivery.id
        assert isinstance(event.data, Payout)
        assert event.data.id == payout.id
        assert event.data.amount == Decimal("962.18")

        await sb.redeliver(delivery.id)  # an answer lost on its way back: same id again
        await settled(sb, attempts=2)
        assert delivery.attempts == [{"status": 200}, {"status": 200}]
        assert len(seen) == 1  # acknowledged, not handled twice


async def test_a_replay_with_a_bad_signature_is_refused():
    receiver = WebhookReceiver("whsec_e2e_secret")
    seen = recorder(receiver)
    async with setup(receiver) as (sb, client):
        await pay(client)
        [delivery] = await settled(sb, attempts=1)
        body = _json.stringify({"event": delivery.event, "data": delivery.data}).encode()
        timestamp = "1700000000000"
        forged = {
            "content-type": "application/json",
            "x-pay-timestamp": timestamp,
            "x-pay-webhook-id": "wh_forged",
            "x-pay-signature": signature("whsec_guessed", timestamp, "wh_forged", delivery.data),
        }
        async with httpx.AsyncClient() as http:
            url = delivery.url
            refused = await http.post(url, content=body, headers=forged)
            assert refused.status_code == 401
            # The real signature of an old delivery, replayed much later: also refused.
            real = {**forged, "x-pay-webhook-id": delivery.id,
                    "x-pay-signature": signature("whsec_e2e_secret", timestamp,
                                                 delivery.id, delivery.data)}
            replayed = await http.post(url, content=body, headers=real)
            assert replayed.status_code == 401
            assert "timestamp" in replayed.json()["error"]
        assert len(seen) == 1


async def test_a_failing_handler_is_retried_by_ecart_pay_until_it_succeeds():
    receiver = WebhookReceiver("whsec_e2e_secret")
    seen = recorder(receiver, fail_first=2)
    async with setup(receiver, mount=False) as (sb, client):
        await pay(client)
        [delivery] = await settled(sb, attempts=3)
        assert delivery.status == "delivered"
        assert delivery.attempts == [{"status": 500}, {"status": 500}, {"status": 200}]
        assert [e.id for e in seen] == [delivery.id] * 3


async def test_a_restarted_worker_remembers_what_it_handled(tmp_path: Path):
    path = tmp_path / "webhooks.db"
    calls: list[str] = []

    def worker() -> WebhookReceiver:
        receiver = WebhookReceiver("whsec_e2e_secret", store=SQLiteDeliveryStore(path))

        @receiver.on("*")
        async def handle(event: WebhookEvent) -> None:
            calls.append(event.id)

        return receiver

    sandbox = Sandbox(webhook_secret="whsec_e2e_secret", webhook_retry_scale=0.01)
    async with sandbox as sb, sb.client() as client:
        with served(worker()) as origin:  # served bare: lifespan closes the store
            await client.webhooks.register(origin, ["transfer.created"])
            await pay(client)
            [delivery] = await settled(sb, attempts=1)
        port = int(origin.rsplit(":", 1)[1])
        with served(worker(), port=port):  # the worker restarted, on the same address
            await sb.redeliver(delivery.id)
            await settled(sb, attempts=2)
    assert delivery.attempts == [{"status": 200}, {"status": 200}]
    assert calls == [delivery.id]
