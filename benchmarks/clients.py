"""The clients a benchmark can run, by name: the hand-written loops and the SDK's ways."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from . import loops, peers
from .sdk_clients import open_sdk, payout_requests
from .transport_loops import transport_loop

__all__ = ["CLIENTS", "ClientSpec", "Runner"]

Runner = Callable[[Iterable[Any], int], Awaitable[int]]
AsyncRunner = AbstractAsyncContextManager[Runner]
Opener = Callable[[str, int, "str | None"], AsyncRunner]


def _bodies(bodies: Iterator[dict[str, Any]]) -> Iterable[Any]:
    return bodies


@dataclass(frozen=True)
class ClientSpec:
    """How to open a client, on which event loop, and how it wants its payouts."""

    label: str
    backend: str
    open: Opener
    items: Callable[[Iterator[dict[str, Any]]], Iterable[Any]] = _bodies
    sdk: bool = False


def _loop(factory: Callable[[str, int], AbstractAsyncContextManager[Runner]]) -> Opener:
    def open_(url: str, concurrency: int, journal: str | None) -> AsyncRunner:
        return factory(url, concurrency)

    return open_


def _aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    from ecartpay_async.transport import AiohttpTransport

    return AiohttpTransport(limits=limits)


def _httpx_aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    from httpx_aiohttp import AiohttpTransport  # the `bench` extra

    return AiohttpTransport(limits=limits)


def _sharded_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    from ecartpay_async.transport import ShardedTransport, ssl_context

    return ShardedTransport(limits=limits, verify=ssl_context(True))


CLIENTS: dict[str, ClientSpec] = {
    "aiohttp": ClientSpec("aiohttp loop (floor)", "asyncio", _loop(loops.aiohttp_loop)),
    "httpx": ClientSpec("httpx loop, default pool", "asyncio", _loop(loops.httpx_loop)),
    "sdk": ClientSpec(
        "SDK, default (aiohttp)", "asyncio", open_sdk("auto"), payout_requests, sdk=True
    ),
    "sdk-send": ClientSpec(
        "SDK, bare send loop", "asyncio", open_sdk("auto", bare=True), payout_requests,
        sdk=True,
    ),
    "sdk-httpx-aiohttp": ClientSpec(
        "SDK on httpx-aiohttp package", "asyncio", open_sdk("httpx-aiohttp"), payout_requests,
        sdk=True,
    ),
    "sdk-httpx": ClientSpec(
        "SDK, user's httpx.AsyncClient", "asyncio", open_sdk("httpx-client"), payout_requests,
        sdk=True,
    ),
    "sdk-trio": ClientSpec(
        "SDK on trio (httpcore lane)", "trio", open_sdk("auto"), payout_requests, sdk=True
    ),
    "sdk-httpx2": ClientSpec(
        "SDK, user's httpx2.AsyncClient", "asyncio", open_sdk("httpx2-client"),
        payout_requests, sdk=True,
    ),
    "sdk-trio-httpx2": ClientSpec(
        "SDK on trio (httpx2 transport)", "trio", open_sdk("httpx2-transport"),
        payout_requests, sdk=True,
    ),
    # Peers, for scale (the `bench` extra): one call each per payout.
    "peer-stripe-aiohttp": ClientSpec(
        "stripe-python 16 on aiohttp", "asyncio", _loop(peers.stripe_loop)
    ),
    "peer-openai-aiohttp": ClientSpec(
        "openai-python 3 on aiohttp", "asyncio", _loop(peers.openai_loop("aiohttp"))
    ),
    "peer-openai-httpx2": ClientSpec(
        "openai-python 3 on httpx2 (default)", "asyncio", _loop(peers.openai_loop("httpx2"))
    ),
    "t-httpcore": ClientSpec(
        "httpx.AsyncHTTPTransport direct",
        "asyncio",
        _loop(transport_loop(lambda limits: httpx.AsyncHTTPTransport(limits=limits))),
    ),
    "t-sharded": ClientSpec(
        "ShardedTransport direct", "asyncio", _loop(transport_loop(_sharded_transport))
    ),
    "t-aiohttp": ClientSpec(
        "AiohttpTransport direct", "asyncio", _loop(transport_loop(_aiohttp_transport))
    ),
    "t-httpx-aiohttp": ClientSpec(
        "httpx-aiohttp package direct", "asyncio", _loop(transport_loop(_httpx_aiohttp_transport))
    ),
}
