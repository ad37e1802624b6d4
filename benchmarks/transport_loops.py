"""Loops that call a transport directly, as the SDK pipeline does for its own transport.

Each payout: build an ``httpx.Request``, ``await transport.handle_async_request``,
read and parse the answer. No SDK logic, so the difference between these loops is
the transports' own cost: the measurement the default transport was chosen by.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from .loops import Runner, run_workers

__all__ = ["transport_loop"]

_KEYS = base64.b64encode(b"pub_bench:priv_bench").decode()


def transport_loop(
    make: Callable[[httpx.Limits], httpx.AsyncBaseTransport],
) -> Callable[[str, int], Any]:
    """A loop factory over the transport ``make(limits)`` builds."""

    @asynccontextmanager
    async def open_loop(url: str, concurrency: int) -> AsyncIterator[Runner]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        transport = make(limits)
        timeout = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
        urls: dict[str, httpx.URL] = {}  # parsing a URL costs more than the request

        async def call(method: str, path: str, auth: str, body: bytes | None) -> Any:
            headers = {"Authorization": auth}
            if body is not None:
                headers["Content-Type"] = "application/json"
            target = urls.get(path)
            if target is None:
                target = urls[path] = httpx.URL(url + path)
            request = httpx.Request(
                method, target, headers=headers, content=body,
                extensions={"timeout": timeout},
            )
            response = await transport.handle_async_request(request)
            await response.aread()
            return response.status_code, json.loads(response.content)

        try:
            _, answer = await call("POST", "/api/authorizations/token", f"Basic {_KEYS}", None)
            token = answer["token"]

            async def send(body: dict[str, Any]) -> bool:
                content = json.dumps(body).encode()
                status, payout = await call("POST", "/api/payouts", token, content)
                return bool(status == 200 and payout["status"] == "paid")

            async def run(items: Iterable[dict[str, Any]], n: int) -> int:
                return await run_workers(items, n, send)

            yield run
        finally:
            await transport.aclose()

    return open_loop
