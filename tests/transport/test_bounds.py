"""Every attempt bounded in time and size, against real misbehaving servers.

A payout POST whose answer trickles, never ends, is announced far too large or
inflates like a bomb fails with a typed error once the bound is hit; and because the
server got the request, the next attempt looks the payout up before sending again
(the server counts one create). On the default stack's direct lanes (aiohttp on
asyncio, httpcore on trio), httpx's transport, and a user's own ``httpx.AsyncClient``.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import httpx
import pytest

from ecartpay_async import (
    APITimeoutError,
    AsyncClient,
    PayoutRequest,
    ResponseTooLargeError,
    RetryPolicy,
)
from ecartpay_async.transport import AutoTransport, TransportConfig

from .loopback import TOKEN, Api, Misbehaviour, answer, read_request, serve

pytestmark = pytest.mark.anyio

LIMIT = 64 * 1024


async def no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def trickle(conn: socket.socket, stop: threading.Event) -> None:
    """A proper head, then one byte of the body every 50 ms (5 s at most)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n")
    for _ in range(100):
        if stop.wait(0.05):
            return
        conn.sendall(b" ")


def endless(conn: socket.socket, stop: threading.Event) -> None:
    """A chunked body that never ends (bounded at 160 MB so the thread always stops)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    for _ in range(10_000):
        if stop.is_set():
            return
        conn.sendall(chunk)


def oversized(conn: socket.socket, stop: threading.Event) -> None:
    """2 GB announced by Content-Length; a little of it sent, then silence."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n" + b"x" * 65536)
    stop.wait(10)


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"\0" * (16 * 1024 * 1024), compresslevel=9)  # ~16 KB -> 16 MB


def gzip_bomb(conn: socket.socket, stop: threading.Event) -> None:
    """The whole bomb, then the socket closed: a client that kept the connection for its
    next request would otherwise wait for an answer this server never gives."""
    body = _bomb()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


# The SDK's own stack, a user's httpx client, a user's httpx2 client.
WAYS = ["default", "http_client", "httpx2_client"]


@asynccontextmanager
async def sdk(url: str, way: str, **options: object) -> AsyncIterator[AsyncClient]:
    common = {"base_url": url, "retry_policy": RetryPolicy(sleep=no_wait), **options}
    if way == "httpx2_client":
        import httpx2

        async with httpx2.AsyncClient() as http2, AsyncClient(
            "pub", "priv", http_client=http2, **common  # type: ignore[arg-type]
        ) as client:
            yield client
    elif way == "http_client":
        async with httpx.AsyncClient() as http, AsyncClient(
            "pub", "priv", http_client=http, **common  # type: ignore[arg-type]
        ) as client:
            yield client
    else:
        async with AsyncClient("pub", "priv", **common) as client:  # type: ignore[arg-type]
            yield client


def payout(reference: str) -> PayoutRequest:
    return PayoutRequest(email="ana@example.com", reference_id=reference,
                         amount=Decimal("12.50"), currency="MXN")


CASES: list[tuple[str, Misbehaviour, type[Exception], dict[str, object]]] = [
    ("trickle", trickle, APITimeoutError, {"timeout": 0.5}),
    ("endless", endless, ResponseTooLargeError, {"max_response_bytes": LIMIT}),
    ("oversized", oversized, ResponseTooLargeError, {"max_response_bytes": LIMIT}),
    ("gzip-bomb", gzip_bomb, ResponseTooLargeError, {"max_response_bytes": LIMIT}),
]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("name", "misbehave", "error", "options"), CASES,
                         ids=[case[0] for case in CASES])
async def test_bounded_failure_is_typed_and_counts_as_maybe_processed(
    anyio_backend: str, way: str, name: str, misbehave: Misbehaviour,
    error: type[Exception], options: dict[str, object],
) -> None:
    api = Api(misbehave)
    with serve(api) as server:
        async with sdk(server.url, way, **options) as client:
            with pytest.raises(error) as caught:
                await client.payouts.send(payout(f"{name}-once"), max_retries=0)
    assert getattr(caught.value, "maybe_processed", None) is True
    assert caught.value.method == "POST"  # type: ignore[attr-defined]
    assert api.posts == 1


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("name", "misbehave", "error", "options"), CASES,
                         ids=[case[0] for case in CASES])
async def test_payout_is_looked_up_before_it_is_sent_again(
    anyio_backend: str, way: str, name: str, misbehave: Misbehaviour, error: type[Exception],
    options: dict[str, object],
) -> None:
    api = Api(misbehave)
    with serve(api) as server:
        async with sdk(server.url, way, **options) as client:
            result = await client.payouts.send(payout(f"{name}-retry"), max_retries=2)
    assert result.recovered  # found by the lookup, not sent twice
    assert result.payout.status == "paid"
    assert api.posts == 1
    assert api.lookups == 1


async def test_a_phase_timeout_still_applies_inside_the_deadline(anyio_backend: str) -> None:
    def silent(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(10)

    api = Api(silent)
    with serve(api) as server:
        timeout = httpx.Timeout(30.0, read=0.3)
        async with sdk(server.url, "default", timeout=timeout) as client:
            with pytest.raises(APITimeoutError, match="ReadTimeout"):
                await client.payouts.send(payout("phase"), max_retries=0)


async def test_the_overall_deadline_holds_on_httpx_transport(anyio_backend: str) -> None:
    api = Api(trickle)
    with serve(api) as server:
        config = TransportConfig(trust_env=False)
        async with AsyncClient("pub", "priv", base_url=server.url, timeout=0.5,
                               transport=AutoTransport(config, prefer="httpx")) as client:
            with pytest.raises(APITimeoutError):
                await client.payouts.send(payout("httpx-trickle"), max_retries=0)


async def test_answers_within_the_limit_are_read_whole(anyio_backend: str) -> None:
    # Every route answers a gzip body that inflates to 40 KB, under the 64 KB limit.
    big = json.dumps({"token": TOKEN, "pad": "y" * 40_000}).encode()

    def padded(conn: socket.socket, stop: threading.Event) -> None:
        while read_request(conn) is not None:
            conn.sendall(answer(200, gzip.compress(big), b"Content-Encoding: gzip\r\n"))

    with serve(padded) as server:
        async with sdk(server.url, "default", max_response_bytes=LIMIT) as client:
            data = await client._http.request("GET", "/api/anything")
    assert len(data["pad"]) == 40_000
