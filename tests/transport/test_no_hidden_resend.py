"""No HTTP library under the SDK resends on its own: the server counts what it got.

The server answers the first request on each connection and closes a reused
connection once it has read the next request, without answering (twice; then it
answers, so that a payout POST, which always follows a lookup, can get through): the case where
aiohttp, left alone, resends a GET or PUT on a new connection unseen by the SDK.
Every request the server received must be one attempt the SDK counted (and told its
observers of), for GET, PUT and POST, on asyncio and trio.
"""

from __future__ import annotations

import json
import socket
import threading
from decimal import Decimal
from urllib.parse import urlsplit

import anyio
import pytest

from ecartpay_async import AsyncClient, RetryPolicy
from ecartpay_async._http import Attempt

from .loopback import TOKEN, answer, read_request, serve

pytestmark = pytest.mark.anyio

_JSON = b"Content-Type: application/json\r\n"


class ClosesReused:
    """Answers one request per connection; a second one is read, counted, and cut
    (``cuts`` times in all)."""

    def __init__(self, cuts: int = 2) -> None:
        self.cuts = cuts
        self.received: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        first = True
        while not stop.is_set():
            request = read_request(conn)
            if request is None:
                return
            method, target, body = request
            with self._lock:
                self.received.append(f"{method.decode()} {target.decode()}")
                cut = not first and self.cuts > 0
                self.cuts -= cut
            if cut:
                return  # closed under the request: no answer
            first = False
            conn.sendall(answer(200, self._body(method, target, body), _JSON))

    @staticmethod
    def _body(method: bytes, target: bytes, body: bytes) -> bytes:
        path = urlsplit(target.decode()).path
        if path == "/api/authorizations/token":
            return json.dumps({"token": TOKEN}).encode()
        if method == b"GET" and path == "/api/payouts":
            return b"[]"
        if method == b"POST" and path == "/api/payouts":
            sent = json.loads(body)
            return json.dumps({"id": "po_1", "status": "paid", **sent}).encode()
        return b'{"id": "po_1", "status": "paid", "amount": 5, "currency": "MXN"}'


async def no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
async def test_every_request_the_server_got_is_an_attempt_the_sdk_counted(method: str) -> None:
    server_side = ClosesReused()
    attempts: list[Attempt] = []
    with serve(server_side) as server:
        async with AsyncClient("pub", "priv", base_url=server.url, max_retries=4,
                               retry_policy=RetryPolicy(sleep=no_wait)) as client:
            client._http.observers.append(attempts.append)
            if method == "POST":
                await client.payouts.create(
                    email="ana@example.com", reference_id="ref-1", amount=Decimal("5.00"),
                    currency="MXN",
                )
            elif method == "PUT":
                await client.payouts.update("po_1", amount=Decimal("5.00"))
            else:
                await client.payouts.retrieve("po_1")
    # Some requests met a reused connection the server cut: each was seen and retried.
    assert any(a.error is not None for a in attempts)
    assert len(server_side.received) == len(attempts)
    assert [f"{a.method} {a.path}" for a in attempts] == [
        r.partition("?")[0] for r in server_side.received
    ]
