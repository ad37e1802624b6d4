"""Stale keep-alive connections, against servers that close them.

A connection the server closed while it sat idle is never used again: the transport
sees it closed before writing a byte and opens a new one. A connection that dies
under a request (the server closed it right after its last answer, and the close
crossed the next request on the wire) is ambiguous: a payout is then looked up by
reference_id before it is sent again, so it is paid once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import pytest

from ecartpay_async import AsyncClient, RetryPolicy
from ecartpay_async.transport import AutoTransport, TransportConfig

from .loopback import TRANSPORTS, Api, serve

pytestmark = pytest.mark.anyio


async def no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


# "default": the client's own stack (its direct lane: aiohttp on asyncio, httpcore on
# trio); the others as user transports ("lane" is "default" here).
@pytest.fixture(params=["default", *(kind for kind in TRANSPORTS if kind != "lane")])
def kind(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    if request.param == "httpx" and anyio_backend != "asyncio":
        pytest.skip("on trio AutoTransport is httpx's transport already")
    return str(request.param)


@asynccontextmanager
async def sdk(url: str, kind: str) -> AsyncIterator[AsyncClient]:
    transport = None if kind == "default" else AutoTransport(
        TransportConfig(trust_env=False), prefer="httpx" if kind == "httpx" else "auto"
    )
    async with AsyncClient("pub", "priv", base_url=url, transport=transport, trust_env=False,
                           retry_policy=RetryPolicy(sleep=no_wait)) as client:
        yield client


async def pay(client: AsyncClient, reference: str) -> str:
    # Retries enough for the worst server: every connection dies after one answer, so
    # each request may meet a dead one (the lookup keeps the payout from paying twice).
    payout = await client.payouts.create(
        email="ana@example.com", reference_id=reference, amount=Decimal("5.00"), currency="MXN",
        max_retries=6,
    )
    return payout.status


class IdleClosing:
    """The API, closing each connection after 0.1 s without a request."""

    def __init__(self) -> None:
        self.api = Api()

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(0.1)
        try:
            self.api(conn, stop)
        except TimeoutError:
            return  # idle too long: close


async def test_connection_closed_while_idle_is_replaced(kind: str) -> None:
    behaviour = IdleClosing()
    with serve(behaviour) as server:
        async with sdk(server.url, kind) as client:
            assert await pay(client, "idle-1") == "paid"
            await anyio.sleep(0.5)  # the server closes the idle connection meanwhile
            assert await pay(client, "idle-2") == "paid"
    assert behaviour.api.posts == 2
    assert behaviour.api.lookups == 0  # never ambiguous: the close was seen before sending
    assert server.connections >= 2


async def test_connection_closed_after_each_answer_pays_each_payout_once(kind: str) -> None:
    # No "Connection: close" warns the client: it learns of the close only from the
    # socket, sometimes only after it wrote the next request on it.
    api = Api(close_after_answer=True)
    with serve(api) as server:
        async with sdk(server.url, kind) as client:
            for n in range(5):
                assert await pay(client, f"close-{n}") == "paid"
    assert sorted(api.payouts) == [f"close-{n}" for n in range(5)]
    assert api.posts == 5  # a request that died with its connection never reached the API
