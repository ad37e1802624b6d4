"""The SDK sends payouts on each path: its default transport (asyncio or trio) and a user's
own ``httpx.AsyncClient`` (mocked by respx), with the pipeline on top."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import respx

from benchmarks.processes import Server, server
from ecartpay_async import AsyncClient
from ecartpay_async.transport import AutoTransport, TransportConfig

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def api() -> Iterator[Server]:
    with server(latency_ms=0) as running:
        yield running


async def test_default_transport_sends_payouts(api: Server, anyio_backend: str) -> None:
    async with AsyncClient("pub", "priv", base_url=api.url) as client:
        for n in range(3):
            payout = await client.payouts.create(
                email="ana@example.com", reference_id=f"paths-{anyio_backend}-{n}",
                amount=Decimal("1250.00"), currency="MXN",
            )
            assert payout.reference_id == f"paths-{anyio_backend}-{n}"
            assert payout.amount == Decimal("1250.00")
            assert payout.status == "paid"


async def test_the_default_stack_takes_a_direct_lane_on_each_loop(
    api: Server, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecartpay_async.transport import DefaultSender
    from ecartpay_async.transport._direct import AiohttpSender
    from ecartpay_async.transport._httpcore import HttpcoreSender

    async with AsyncClient("pub", "priv", base_url=api.url, trust_env=False) as client:
        await client.payouts.find_by_reference("nothing-here")
        sender = client._http._shared.sender
    assert isinstance(sender, DefaultSender)
    expected = AiohttpSender if anyio_backend == "asyncio" else HttpcoreSender
    assert type(sender.chosen) is expected
    # Through a proxy, requests are routed per proxy under httpx's interface.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    proxied = AsyncClient("pub", "priv", base_url=api.url)
    assert proxied._http._shared.sender.transport.lane_for(api.url) is None  # type: ignore[attr-defined]
    await proxied.aclose()
    # prefer="httpx" keeps httpx's own transport, under its interface, on every loop.
    preferring = AutoTransport(TransportConfig(), prefer="httpx")
    assert preferring.lane_for(api.url) is None


async def test_users_httpx_client_is_used_and_mockable(anyio_backend: str) -> None:
    token = "a.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6NDEwMjQ0MTIwMH0.c"
    payout = {
        "id": "po_1", "reference_id": "mocked-1", "status": "paid", "currency": "MXN",
        "amount": 10, "email": "ana@example.com",
    }
    with respx.mock(base_url="http://api.test", assert_all_called=True) as mock:
        mock.post("/api/authorizations/token").respond(200, json={"token": token})
        mock.post("/api/payouts").respond(200, json=payout)
        async with httpx.AsyncClient() as http, AsyncClient(
            "pub", "priv", base_url="http://api.test", http_client=http
        ) as client:
            result = await client.payouts.create(
                email="ana@example.com", reference_id="mocked-1", amount=Decimal("10"),
                currency="MXN",
            )
    assert result.id == "po_1"
