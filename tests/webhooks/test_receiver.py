"""``WebhookReceiver`` as an ASGI app, called in the test's own loop (asyncio and trio).

The end-to-end tests over real HTTP from the sandbox are in test_receiver_e2e.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import anyio
import httpx
import pytest

from ecartpay_async.models.payouts import Payout
from ecartpay_async.webhooks import (
    Claim,
    MemoryDeliveryStore,
    WebhookEvent,
    WebhookReceiver,
    verify_webhook,
)

from ._util import SECRET, signed

pytestmark = [pytest.mark.anyio, pytest.mark.clock]

PAYOUT = {"id": "pay_1", "status": "paid", "amount": Decimal("962.18"), "currency": "MXN",
          "reference_id": "order:ord_1", "email": "seller@example.com"}


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(SECRET)


@pytest.fixture
async def http(receiver: WebhookReceiver) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client


async def deliver(http: httpx.AsyncClient, data: object = PAYOUT, **options: object
                  ) -> httpx.Response:
    body, headers = signed(data, **options)  # type: ignore[arg-type]
    return await http.post("/", content=body, headers=headers)


async def test_a_delivery_reaches_its_handlers_typed(receiver, http):
    seen: list[tuple[str, WebhookEvent]] = []

    @receiver.on("transfer.created")
    async def exact(event: WebhookEvent) -> None:
        seen.append(("exact", event))

    @receiver.on("transfer.*", "orders.*")
    async def pattern(event: WebhookEvent) -> None:
        seen.append(("pattern", event))

    @receiver.on("*")
    async def catch_all(event: WebhookEvent) -> None:
        seen.append(("all", event))

    @receiver.on("orders.confirmation")
    async def other(event: WebhookEvent) -> None:
        seen.append(("other", event))

    response = await deliver(http)
    assert response.status_code == 200
    assert response.json() == {"status": "processed", "webhook_id": "wh_1"}
    assert [name for name, _ in seen] == ["exact", "pattern", "all"]
    event = seen[0][1]
    assert event.event == "transfer.created"
    assert event.id == "wh_1"
    assert isinstance(event.data, Payout)
    assert event.data.amount == Decimal("962.18")
    assert "wh_1" in receiver.store  # type: ignore[operator]


async def test_a_handler_registered_twice_runs_once(receiver, http):
    calls = []

    @receiver.on("transfer.created", "*")
    async def handler(event: WebhookEvent) -> None:
        calls.append(event.id)

    assert (await deliver(http)).status_code == 200
    assert calls == ["wh_1"]


async def test_an_event_without_handlers_is_acknowledged_and_recorded(receiver, http):
    response = await deliver(http, event="withdrawals.created", webhook_id="wh_9")
    assert response.status_code == 200
    assert "wh_9" in receiver.store  # type: ignore[operator]


async def test_a_redelivery_is_acknowledged_without_running_again(receiver, http):
    calls = []

    @receiver.on("*")
    async def handler(event: WebhookEvent) -> None:
        calls.append(event.id)

    assert (await deliver(http)).json()["status"] == "processed"
    again = await deliver(http)  # same id, newly signed, as Ecart Pay's retry would be
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "webhook_id": "wh_1"}
    assert calls == ["wh_1"]


@pytest.mark.parametrize(
    ("tamper", "status", "check"),
    [
        ({"x-pay-signature": "SHA256=" + "0" * 64}, 401, "signature"),
        ({"x-pay-timestamp": "1000"}, 401, "timestamp"),  # signed, but ancient: a replay
        ({"x-pay-signature": "md5=abc"}, 400, "bad_format"),
        ({"x-pay-webhook-id": ""}, 400, "missing_header"),
    ],
)
async def test_a_bad_delivery_runs_no_handler(tamper, status, check, receiver, http):
    calls = []

    @receiver.on("*")
    async def handler(event: WebhookEvent) -> None:
        calls.append(event)

    body, headers = signed(PAYOUT, timestamp=1000 if "x-pay-timestamp" in tamper else None)
    response = await http.post("/", content=body, headers={**headers, **tamper})
    assert response.status_code == status
    assert check in response.json()["error"]
    assert SECRET not in response.text
    assert calls == []


async def test_a_tampered_body_is_refused(receiver, http):
    body, headers = signed(PAYOUT)
    tampered = body.replace(b"962.18", b"9962.18")
    response = await http.post("/", content=tampered, headers=headers)
    assert response.status_code == 401


async def test_a_repeated_signed_header_is_refused(receiver, http):
    body, headers = signed(PAYOUT)
    raw = [(k, v) for k, v in headers.items()] + [("x-pay-webhook-id", "wh_2")]
    response = await http.post("/", content=body, headers=raw)
    assert response.status_code == 400


async def test_the_body_size_is_bounded(http):
    small = WebhookReceiver(SECRET, max_body_bytes=64)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small),
                                 base_url="http://receiver") as client:
        response = await deliver(client)
        assert response.status_code == 413

        async def stream() -> AsyncIterator[bytes]:  # no content-length: counted as read
            for _ in range(10):
                yield b"x" * 16

        response = await client.post("/", content=stream(), headers={"x-pay-webhook-id": "a"})
        assert response.status_code == 413


async def test_only_post(http):
    response = await http.get("/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_failing_handler_gives_500_and_the_retry_runs_it_again(receiver, http):
    attempts = []

    @receiver.on("transfer.created")
    async def flaky(event: WebhookEvent) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("ledger unavailable for seller@example.com")

    first = await deliver(http)
    assert first.status_code == 500
    assert first.json() == {"error": "a handler failed (RuntimeError)"}  # no event data
    assert "wh_1" not in receiver.store  # type: ignore[operator]
    second = await deliver(http)
    assert second.status_code == 200
    assert attempts == ["wh_1", "wh_1"]
    assert (await deliver(http)).json()["status"] == "duplicate"


async def test_a_handler_past_its_deadline_gives_503_and_is_not_recorded():
    receiver = WebhookReceiver(SECRET, handler_timeout=0.05)
    never = anyio.Event()

    @receiver.on("*")
    async def stuck(event: WebhookEvent) -> None:
        await never.wait()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver),
                                 base_url="http://receiver") as client:
        response = await deliver(client)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert "wh_1" not in receiver.store  # type: ignore[operator]


async def test_concurrent_deliveries_of_one_id_run_the_handler_once(receiver, http):
    entered = anyio.Event()
    release = anyio.Event()
    calls = []

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        calls.append(event.id)
        entered.set()
        await release.wait()

    statuses: dict[str, int] = {}

    async def first() -> None:
        statuses["first"] = (await deliver(http)).status_code

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await entered.wait()
        second = await deliver(http)  # Ecart Pay retrying while the first still runs
        statuses["second"] = second.status_code
        release.set()
    assert statuses == {"first": 200, "second": 503}
    assert calls == ["wh_1"]
    assert (await deliver(http)).json()["status"] == "duplicate"


async def test_lifespan_closes_the_store():
    closed = []

    class Store(MemoryDeliveryStore):
        async def aclose(self) -> None:
            closed.append(True)

    receiver = WebhookReceiver(SECRET, store=Store())
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return messages.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await receiver({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
    assert closed == [True]


def test_registration_and_options_are_checked():
    receiver = WebhookReceiver(SECRET)

    def not_async(event: WebhookEvent) -> None: ...

    with pytest.raises(TypeError, match="async"):
        receiver.on("*")(not_async)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="event names"):
        receiver.on()
    for timeout in (0, 5, 10):
        with pytest.raises(ValueError, match="handler_timeout"):
            WebhookReceiver(SECRET, handler_timeout=timeout)
    with pytest.raises(ValueError, match="secret"):
        WebhookReceiver("")
    assert SECRET not in repr(receiver)


async def test_a_handler_raising_timeout_error_is_a_failure_not_the_deadline(receiver, http):
    @receiver.on("*")
    async def upstream_timed_out(event: WebhookEvent) -> None:
        raise TimeoutError("the ledger did not answer")

    response = await deliver(http)
    assert response.status_code == 500
    assert response.json() == {"error": "a handler failed (TimeoutError)"}


async def test_a_cancelled_delivery_gives_its_claim_back(receiver):
    entered = anyio.Event()

    @receiver.on("*")
    async def stuck(event: WebhookEvent) -> None:
        entered.set()
        await anyio.sleep_forever()

    body, headers = signed(PAYOUT)
    event = verify_webhook(body, headers, SECRET)
    async with anyio.create_task_group() as tg:
        tg.start_soon(receiver.handle, event)
        await entered.wait()
        tg.cancel_scope.cancel()  # the server stopping mid-handler
    assert await receiver.store.claim(event.id, lease=1) is Claim.CLAIMED
