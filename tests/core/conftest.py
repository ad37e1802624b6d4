"""Fixtures for the core tests: a respx router on the test origin, fake time, a client."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from ecartpay_async import AsyncClient

from ._util import BASE, TOKEN_PATH, FakeTime, build_client, token_response


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Every request is mocked; the token route answers with TOKEN unless a test changes it."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post(TOKEN_PATH, name="token").mock(return_value=token_response())
        yield mock


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~50 ms per httpx client; share one (nothing connects).
    return ssl.create_default_context()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The user's own httpx client: the SDK must send through it and never close it."""
    async with httpx.AsyncClient(verify=_tls()) as http:
        yield http


@pytest.fixture
async def client(
    router: respx.MockRouter, http_client: httpx.AsyncClient, clock: FakeTime
) -> AsyncIterator[AsyncClient]:
    async with build_client(http_client, clock) as c:
        yield c

