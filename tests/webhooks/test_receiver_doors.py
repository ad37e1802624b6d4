"""The receiver against strangers, served by uvicorn on loopback (asyncio and trio clients).

A forged body whose numbers would cost minutes to expand, bodies trickled byte by
byte, a redelivery while a handler is still running, text that is not Unicode: each
is answered at once, and a valid delivery sent meanwhile is still handled. Time
bounds are client-side deadlines with generous margins, never measured durations.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import anyio
import httpx
import pytest

from ecartpay_async.webhooks import (
    MemoryDeliveryStore,
    UnknownEventData,
    WebhookEvent,
    WebhookReceiver,
)
from ecartpay_async.webhooks import (
    receiver as receiver_module,
)

from ._util import SECRET, served, signed

pytestmark = pytest.mark.anyio

PAYOUT = {"id": "pay_1", "status": "paid", "amount": Decimal("962.18"), "currency": "MXN",
          "reference_id": "order:ord_1", "email": "seller@example.com"}
FORGED = "SHA256=" + "0" * 64


def forged(body: bytes, webhook_id: str = "wh_forged") -> dict[str, str]:
    return {"content-type": "application/json",
            "x-pay-timestamp": str(int(time.time() * 1000)),
            "x-pay-webhook-id": webhook_id, "x-pay-signature": FORGED}


def signed_as_text(data: str, event: str = "transfer.created") -> tuple[bytes, dict[str, str]]:
    """A delivery whose ``data`` is signed as the text given (numbers, escapes as they are)."""
    body = ('{"event":"' + event + '","data":' + data + "}").encode()
    headers = forged(body, "wh_1")
    text = f"{headers['x-pay-timestamp']}.wh_1.{data}".encode()
    digest = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest()
    return body, {**headers, "x-pay-signature": f"SHA256={digest}"}


def recording(receiver: WebhookReceiver) -> list[WebhookEvent]:
    seen: list[WebhookEvent] = []

    @receiver.on("*")
    async def record(event: WebhookEvent) -> None:
        seen.append(event)

    return seen


async def test_huge_exponents_are_refused_at_once_while_a_valid_delivery_is_handled():
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    statuses: dict[str, int] = {}
    with served(receiver) as origin:
        async with httpx.AsyncClient(base_url=origin, timeout=10) as http:

            async def attack(name: str, number: str) -> None:
                body = ('{"event":"transfer.created","data":{"amount":' + number + "}}").encode()
                statuses[name] = (await http.post("/", content=body,
                                                  headers=forged(body))).status_code

            async def valid() -> None:
                body, headers = signed(PAYOUT, webhook_id="wh_valid")
                statuses["valid"] = (await http.post("/", content=body,
                                                     headers=headers)).status_code

            # Expanding 1e1000000 took the old receiver ~23 s, 1e999999999 minutes.
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(attack, "big", "1e1000000")
                    tg.start_soon(attack, "huge", "1e999999999")
                    tg.start_soon(attack, "long", "1" * 500_000)
                    tg.start_soon(valid)
    assert statuses == {"big": 401, "huge": 401, "long": 401, "valid": 200}
    assert [event.id for event in seen] == ["wh_valid"]


async def test_an_authentic_huge_number_is_read_after_the_signature():
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    with served(receiver) as origin, anyio.fail_after(10):
        async with httpx.AsyncClient(base_url=origin, timeout=10) as http:
            body, headers = signed_as_text('{"id":"x","amount":1e1000000}',
                                           event="withdrawals.created")
            answer = await http.post("/", content=body, headers=headers)
    assert answer.status_code == 200
    assert seen[0].data["amount"] == Decimal("1e1000000")


async def test_trickled_bodies_are_dropped_and_do_not_stop_a_valid_delivery():
    receiver = WebhookReceiver(SECRET, read_timeout=1.0)
    seen = recording(receiver)
    with served(receiver) as origin:
        host, port = origin.removeprefix("http://").rsplit(":", 1)
        streams = []
        try:
            with anyio.fail_after(20):
                for _ in range(300):
                    stream = await anyio.connect_tcp(host, int(port))
                    streams.append(stream)
                    await stream.send(b"POST / HTTP/1.1\r\nhost: receiver\r\n"
                                      b"content-type: application/json\r\n"
                                      b"content-length: 100\r\n\r\n{")
            with anyio.fail_after(5):
                async with httpx.AsyncClient(base_url=origin, timeout=5) as http:
                    body, headers = signed(PAYOUT, webhook_id="wh_valid")
                    answer = await http.post("/", content=body, headers=headers)
            assert answer.status_code == 200
            with anyio.fail_after(10):  # the read deadline answers each trickler
                head = await streams[0].receive()
            assert head.startswith(b"HTTP/1.1 408")
        finally:
            for stream in streams:
                await stream.aclose()
    assert [event.id for event in seen] == ["wh_valid"]


async def test_a_redelivery_during_a_handler_past_its_deadline_never_runs_it_twice(caplog):
    # The handler blocks in a worker thread, which no deadline can interrupt; the store's
    # clock jumps past the claim's lease, as 10 s of Ecart Pay's retry delay would.
    now = [0.0]
    store = MemoryDeliveryStore(clock=lambda: now[0])
    receiver = WebhookReceiver(SECRET, store=store, handler_timeout=0.2)
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    @receiver.on("*")
    async def blocking(event: WebhookEvent) -> None:
        calls.append(event.id)
        entered.set()
        await anyio.to_thread.run_sync(release.wait)

    answers: dict[str, int] = {}
    with served(receiver) as origin:
        async with httpx.AsyncClient(base_url=origin, timeout=10) as http:

            async def deliver(name: str) -> None:
                body, headers = signed(PAYOUT)
                answers[name] = (await http.post("/", content=body,
                                                 headers=headers)).status_code

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(deliver, "first")
                    await anyio.to_thread.run_sync(entered.wait)
                    now[0] += 3600  # any lease has lapsed by now
                    await deliver("redelivery")
                    release.set()
                await deliver("later")
    assert answers == {"first": 200, "redelivery": 503, "later": 200}
    assert calls == ["wh_1"]
    assert "wh_1" in store


async def test_the_concurrency_cap_answers_503(caplog):
    receiver = WebhookReceiver(SECRET, max_concurrency=1)
    entered, release = anyio.Event(), anyio.Event()

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        entered.set()
        await release.wait()

    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        answers: dict[str, httpx.Response] = {}

        async def deliver(name: str, webhook_id: str) -> None:
            body, headers = signed(PAYOUT, webhook_id=webhook_id)
            answers[name] = await http.post("/", content=body, headers=headers)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(deliver, "first", "wh_1")
                await entered.wait()
                await deliver("second", "wh_2")
                release.set()
    assert answers["first"].status_code == 200
    assert answers["second"].status_code == 503
    assert answers["second"].headers["retry-after"] == "10"
    assert "too many" in answers["second"].json()["error"]


async def asgi_post(receiver: WebhookReceiver, body: bytes,
                    headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        return await http.post("/", content=body, headers=headers)


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ecartpay_async.webhooks"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"event":"transfer.created","data":{"note":"\\ud800"}}', 401),  # forged
        (b'{"event":"transfer.created","data":', 400),  # not JSON
        (b'{"event":"transfer.created","data":{"a":"\xff"}}', 400),  # not UTF-8
        (b"[" * 100_000, 400),  # nested past any parser's depth
    ],
    ids=["lone-surrogate", "bad-json", "bad-utf8", "deep"],
)
async def test_client_errors_are_4xx_with_one_line_and_no_traceback(body, status, caplog):
    caplog.set_level(logging.INFO, "ecartpay_async.webhooks")
    answer = await asgi_post(WebhookReceiver(SECRET), body, forged(body))
    assert answer.status_code == status
    [record] = refusals(caplog)
    assert record.exc_info is None
    assert "\n" not in record.getMessage()


async def test_an_authentic_lone_surrogate_is_refused_as_bad_unicode(caplog):
    caplog.set_level(logging.INFO, "ecartpay_async.webhooks")
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    body, headers = signed_as_text('{"id":"pay_1","note":"\\ud800"}')
    answer = await asgi_post(receiver, body, headers)
    assert answer.status_code == 400
    assert "unicode" in answer.json()["error"]
    [record] = refusals(caplog)
    assert record.exc_info is None
    assert seen == []


async def test_a_timestamp_in_seconds_is_named_in_the_refusal():
    body, headers = signed(PAYOUT, timestamp=int(time.time()))
    answer = await asgi_post(WebhookReceiver(SECRET), body, headers)
    assert answer.status_code == 401
    assert "in seconds" in answer.json()["error"]


async def test_data_that_does_not_fit_its_model_is_an_unknown_event():
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    body, headers = signed({"id": "pay_1", "amount": "not money"})
    assert (await asgi_post(receiver, body, headers)).status_code == 200
    [event] = seen
    assert isinstance(event.data, UnknownEventData)
    assert event.data.expected == "Payout"
    assert event.data["amount"] == "not money"
    assert "not money" not in repr(event.data)


async def test_a_handler_failure_is_logged_with_its_name_and_traceback(caplog):
    caplog.set_level(logging.INFO, "ecartpay_async.webhooks")
    receiver = WebhookReceiver(SECRET)

    @receiver.on("*")
    async def credit_seller(event: WebhookEvent) -> None:
        raise RuntimeError("the ledger is down")

    body, headers = signed(PAYOUT)
    assert (await asgi_post(receiver, body, headers)).status_code == 500
    [record] = refusals(caplog)
    assert "credit_seller" in record.getMessage()
    assert record.exc_info is not None
    text = caplog.text
    assert "the ledger is down" in text  # the traceback
    assert "seller@example.com" not in text  # never the body
    assert "962.18" not in text


async def test_a_handler_past_ecart_pays_budget_is_reported(caplog, monkeypatch):
    caplog.set_level(logging.INFO, "ecartpay_async.webhooks")
    # The receiver's clock, moved by the handler: past the budget with no real wait.
    now = [0.0]
    monkeypatch.setattr(receiver_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    receiver = WebhookReceiver(SECRET, handler_timeout=1)

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        now[0] += receiver_module.ECARTPAY_ANSWER_BUDGET + 1

    body, headers = signed(PAYOUT)
    assert (await asgi_post(receiver, body, headers)).status_code == 200
    assert any("budget" in r.getMessage() for r in refusals(caplog))


async def test_the_claim_is_renewed_while_a_handler_runs():
    # The store another worker process would share: its lease must not lapse under a
    # live handler. The handler waits for the renewal itself (no sleep, no timing).
    renewed = threading.Event()

    class Store(MemoryDeliveryStore):
        async def renew(self, webhook_id: str, *, lease: float) -> None:
            await super().renew(webhook_id, lease=lease)
            renewed.set()

    store = Store()
    receiver = WebhookReceiver(SECRET, store=store, handler_timeout=0.1)

    @receiver.on("*")
    async def blocking(event: WebhookEvent) -> None:
        await anyio.to_thread.run_sync(renewed.wait, 30)

    body, headers = signed(PAYOUT)
    with anyio.fail_after(30):
        answer = await asgi_post(receiver, body, headers)
    assert renewed.is_set()
    assert answer.status_code == 200
    assert "wh_1" in store
