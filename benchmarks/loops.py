"""The hand-written loops the SDK is compared with.

``aiohttp``: one ``ClientSession`` sized to the concurrency, N workers pulling from
one iterator: the practical floor. ``httpx``: the same loop over an
``httpx.AsyncClient()`` with its default pool, what users write today. Both fetch a
token once, send each payout with it, and parse the JSON answer.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["aiohttp_loop", "httpx_loop", "run_workers"]

Runner = Callable[[Iterable[dict[str, Any]], int], Awaitable[int]]

_KEYS = base64.b64encode(b"pub_bench:priv_bench").decode()


async def run_workers(
    items: Iterable[Any], concurrency: int, send: Callable[[Any], Awaitable[bool]]
) -> int:
    """Send every item with ``concurrency`` workers sharing one iterator; count successes."""
    source: Iterator[Any] = iter(items)
    done = 0

    async def worker() -> None:
        nonlocal done
        for item in source:
            if await send(item):
                done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


@asynccontextmanager
async def aiohttp_loop(url: str, concurrency: int) -> AsyncIterator[Runner]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector) as session:
        async with session.post(
            "/api/authorizations/token", headers={"Authorization": f"Basic {_KEYS}"}
        ) as answer:
            token = (await answer.json())["token"]
        headers = {"Authorization": token}

        async def send(body: dict[str, Any]) -> bool:
            async with session.post("/api/payouts", json=body, headers=headers) as response:
                payout = await response.json()
            return response.status == 200 and payout["status"] == "paid"

        async def run(items: Iterable[dict[str, Any]], n: int) -> int:
            return await run_workers(items, n, send)

        yield run


@asynccontextmanager
async def httpx_loop(url: str, concurrency: int) -> AsyncIterator[Runner]:
    import httpx

    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.post(
            "/api/authorizations/token", headers={"Authorization": f"Basic {_KEYS}"}
        )
        headers = {"Authorization": answer.json()["token"]}

        async def send(body: dict[str, Any]) -> bool:
            response = await client.post("/api/payouts", json=body, headers=headers)
            return response.status_code == 200 and response.json()["status"] == "paid"

        async def run(items: Iterable[dict[str, Any]], n: int) -> int:
            return await run_workers(items, n, send)

        yield run
