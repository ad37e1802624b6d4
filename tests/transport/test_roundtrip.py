"""The SDK's transports against a well-behaved local server, on asyncio and trio."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from ecartpay_async.transport import AutoTransport, TransportConfig

from .loopback import TRANSPORTS, LaneTransport, LoopbackServer, make_transport, send

pytestmark = pytest.mark.anyio

LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest, anyio_backend: str) -> httpx.AsyncBaseTransport:
    return make_transport(request.param, anyio_backend, LIMITS)


async def test_post_round_trip_keeps_headers_and_body(
    transport: httpx.AsyncBaseTransport, server: LoopbackServer
) -> None:
    async with transport:
        response = await send(transport, "POST", server.url + "/api/payouts?x=1",
                              content=b'{"amount":1.50}')
    assert response.status_code == 201
    assert response.json() == {
        "method": "POST", "target": "/api/payouts?x=1", "body": '{"amount":1.50}'
    }
    assert response.headers.get_list("x-multi") == ["a", "b"]
    assert response.request.url.path == "/api/payouts"
    assert response.http_version == "HTTP/1.1"


async def test_connections_are_reused(
    transport: httpx.AsyncBaseTransport, server: LoopbackServer
) -> None:
    async with transport:
        for _ in range(5):
            assert (await send(transport, "GET", server.url + "/")).status_code == 201
    assert server.connections == 1


async def test_gzip_body_is_decoded_by_httpx(
    transport: httpx.AsyncBaseTransport, server: LoopbackServer
) -> None:
    async with transport:
        response = await send(transport, "GET", server.url + "/gzip")
    if isinstance(transport, LaneTransport):  # decoded by the lane, headers to match
        assert "content-encoding" not in response.headers
    else:
        assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"compressed": True}


@pytest.mark.parametrize(
    ("method", "path", "content", "connections"),
    [
        ("GET", "/close", b"bye", 2),  # Connection: close is honoured
        ("GET", "/chunked", b"hello world", 1),  # chunks with extensions and trailers
        ("HEAD", "/head", b"", 1),  # a HEAD answer has no body despite Content-Length
    ],
)
async def test_framing_then_next_request(
    transport: httpx.AsyncBaseTransport, server: LoopbackServer,
    method: str, path: str, content: bytes, connections: int,
) -> None:
    async with transport:
        assert (await send(transport, method, server.url + path)).content == content
        assert (await send(transport, "GET", server.url + "/")).status_code == 201
    assert server.connections == connections


async def test_streamed_request_body_is_sent_whole(
    transport: httpx.AsyncBaseTransport, server: LoopbackServer
) -> None:
    async def parts():  # type: ignore[no-untyped-def]
        yield b"ab"
        yield b"cd"

    request = httpx.Request("POST", server.url + "/s", content=parts(),
                            extensions={"timeout": httpx.Timeout(5.0).as_dict()})
    async with transport:
        response = await transport.handle_async_request(request)
        await response.aread()
    assert response.json()["body"] == "abcd"


async def test_auto_picks_by_event_loop(anyio_backend: str, server: LoopbackServer) -> None:
    transport = AutoTransport(TransportConfig(limits=LIMITS))
    assert transport.chosen is None
    async with transport:
        await send(transport, "GET", server.url + "/")
        chosen = type(transport.chosen).__name__
    expected = "AiohttpTransport" if anyio_backend == "asyncio" else "ShardedTransport"
    assert chosen == expected


def test_importing_the_sdk_loads_neither_asyncio_nor_aiohttp() -> None:
    code = (
        "import sys, ecartpay_async, ecartpay_async.transport;"
        "print(sorted(m for m in ('asyncio', 'aiohttp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
