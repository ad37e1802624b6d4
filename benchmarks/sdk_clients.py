"""This SDK as a benchmark client, on each transport it offers.

Until the batch engine lands on main, a run is a loop of ``client.payouts.send``
(the exactly-once create) in ``concurrency`` workers of one anyio task group (the
same shape as the hand-written loops), labelled ``create loop``; once
``client.payouts.send_batch`` exists it is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx

__all__ = ["has_send_batch", "open_sdk", "payout_requests"]

Runner = Callable[[Iterable[Any], int], Any]


def has_send_batch() -> bool:
    try:  # client.payouts is the batch package's subclass of the resource
        from ecartpay_async.batch.payouts import BatchPayouts as payouts
    except ImportError:
        from ecartpay_async.resources.payouts import AsyncPayouts as payouts
    return hasattr(payouts, "send_batch")


def payout_requests(bodies: Iterator[dict[str, Any]]) -> Iterator[Any]:
    """The same payouts as validated ``PayoutRequest`` objects, still made lazily."""
    from ecartpay_async import PayoutRequest

    for body in bodies:
        yield PayoutRequest(**body)


def _sdk_client(url: str, concurrency: int, transport: str) -> Any:
    from ecartpay_async import AsyncClient
    from ecartpay_async.client import DEFAULT_LIMITS

    limits = httpx.Limits(
        max_connections=max(concurrency, DEFAULT_LIMITS.max_connections or 0),
        max_keepalive_connections=max(concurrency, DEFAULT_LIMITS.max_keepalive_connections or 0),
        keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
    )
    if transport == "httpx-client":  # a user's own httpx.AsyncClient: the client.send path
        return AsyncClient("pub_bench", "priv_bench", base_url=url,
                           http_client=httpx.AsyncClient(limits=limits))
    if transport == "httpx2-client":  # a user's own httpx2.AsyncClient (its own pool)
        import httpx2

        return AsyncClient("pub_bench", "priv_bench", base_url=url,
                           http_client=httpx2.AsyncClient(limits=httpx2.Limits(
                               max_connections=limits.max_connections,
                               max_keepalive_connections=limits.max_keepalive_connections,
                               keepalive_expiry=limits.keepalive_expiry)))
    if transport == "httpx2-transport":  # httpx2's transport under the SDK's sender
        import httpx2

        return AsyncClient("pub_bench", "priv_bench", base_url=url,
                           transport=httpx2.AsyncHTTPTransport(limits=httpx2.Limits(
                               max_connections=limits.max_connections,
                               max_keepalive_connections=limits.max_keepalive_connections,
                               keepalive_expiry=limits.keepalive_expiry)))
    if transport == "httpx-aiohttp":  # the httpx-aiohttp package (`bench` extra)
        from httpx_aiohttp import AiohttpTransport

        return AsyncClient("pub_bench", "priv_bench", base_url=url,
                           transport=AiohttpTransport(limits=limits))
    return AsyncClient("pub_bench", "priv_bench", base_url=url, limits=limits)


async def _create_loop(client: Any, items: Iterable[Any], concurrency: int) -> int:
    """``concurrency`` workers in one anyio task group, sharing one iterator of requests."""
    source: Iterator[Any] = iter(items)
    done = 0

    async def worker() -> None:
        nonlocal done
        for request in source:
            result = await client.payouts.send(request)
            if result.payout.status == "paid":
                done += 1

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    return done


async def _send_batch(
    client: Any, items: Iterable[Any], concurrency: int, journal: str | None
) -> int:
    report = await client.payouts.send_batch(items, concurrency=concurrency, journal=journal)
    return int(report.counts.get("paid", 0))


def open_sdk(transport: str, *, bare: bool = False) -> Callable[[str, int, str | None], Any]:
    """An opener for the SDK on ``transport`` (``auto``, ``httpx-aiohttp`` or ``httpx-client``);
    ``bare``: a loop of ``client.payouts.send`` instead of ``send_batch``."""

    @asynccontextmanager
    async def open_(url: str, concurrency: int, journal: str | None) -> AsyncIterator[Runner]:
        client = _sdk_client(url, concurrency, transport)
        batch = has_send_batch() and not bare
        async with client:

            async def run(items: Iterable[Any], n: int) -> int:
                if batch:
                    return await _send_batch(client, items, n, journal)
                return await _create_loop(client, items, n)

            yield run

    return open_
