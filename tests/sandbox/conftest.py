"""Fixtures for the emulator's tests: a sandbox on a loopback port, a token, a receiver."""

from __future__ import annotations

import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ecartpay_async.sandbox import Sandbox
from ecartpay_async.sandbox.server import _ServerThread


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(webhook_retry_scale=0.001) as sandbox:
        yield sandbox


# One TLS context for every test client: building one per client costs ~0.1 s.
TLS = ssl.create_default_context()


@pytest.fixture
async def http(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sb.base_url, verify=TLS) as client:
        yield client


async def token_for(http: httpx.AsyncClient, sb: Sandbox) -> str:
    response = await http.post("/api/authorizations/token", auth=(sb.public_key, sb.private_key))
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


@pytest.fixture
async def auth(http: httpx.AsyncClient, sb: Sandbox) -> dict[str, str]:
    return {"Authorization": await token_for(http, sb)}


class Receiver:
    """A webhook receiver on its own port; answers each delivery with the next status."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        started = threading.Event()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((dict(request.headers), body))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response(status_code=status)

        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            started.set()
            yield

        app = Starlette(routes=[Route("/hook", hook, methods=["POST"])], lifespan=lifespan)
        self._server = _ServerThread(app, "127.0.0.1", 0)
        self._server.start(started)
        self.url = f"http://127.0.0.1:{self._server.port}/hook"

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.stop()
