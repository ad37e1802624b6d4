"""Peer SDKs in the same loop, for scale: one API call per payout, as their users write it.

- ``stripe-python`` on its aiohttp client: ``client.v1.payouts.create_async(...)``
  (``POST /v1/payouts``, form-encoded, a ``Payout`` object back).
- ``openai-python`` on its aiohttp client and on its default httpx2 client:
  ``client.files.retrieve(...)`` (``GET /v1/files/{id}``, the lightest call it has).

The loopback server answers both (``server.py``). The ``bench`` extra installs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from .loops import Runner, run_workers

__all__ = ["openai_loop", "stripe_loop"]


@asynccontextmanager
async def stripe_loop(url: str, concurrency: int) -> AsyncIterator[Runner]:
    import stripe

    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        "sk_test_bench", base_addresses={"api": url}, http_client=http, max_network_retries=0,
    )

    async def send(body: dict[str, Any]) -> bool:
        payout = await client.v1.payouts.create_async(
            params={"amount": 1250, "currency": "mxn", "description": body["reference_id"]}
        )
        return payout.status == "paid"

    async def run(items: Iterable[dict[str, Any]], n: int) -> int:
        return await run_workers(items, n, send)

    try:
        yield run
    finally:
        await http.close_async()


def openai_loop(stack: str) -> Any:
    """``openai-python`` over ``stack``: ``aiohttp`` or its default ``httpx2``."""

    @asynccontextmanager
    async def open_(url: str, concurrency: int) -> AsyncIterator[Runner]:
        import openai

        http = openai.DefaultAioHttpClient() if stack == "aiohttp" else None
        async with openai.AsyncOpenAI(
            api_key="sk-bench", base_url=f"{url}/v1", http_client=http, max_retries=0,
        ) as client:

            async def send(body: dict[str, Any]) -> bool:
                found = await client.files.retrieve("file-bench")
                return found.status == "processed"

            async def run(items: Iterable[dict[str, Any]], n: int) -> int:
                return await run_workers(items, n, send)

            yield run

    return open_
