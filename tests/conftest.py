"""Fixtures every test folder may use; the helper modules are in ``tests/helpers``
(on pytest's ``pythonpath``: ``from batch_fakes import make_requests``).

- ``anyio_backend``: every async test runs on asyncio and on trio, but the scenarios
  marked ``end_to_end`` (the whole stack: a sandbox over loopback, subprocesses) run on
  one backend; the unit and transport tests keep both.
- ``router``, ``clock``, ``http_client``, ``client``: an :class:`AsyncClient` on a
  respx-mocked API with fake time (see :mod:`client_fakes`).
- ``order_examples``, ``marketplace``: the documented order examples, and
  ``examples/marketplace_settlement.py`` as a module.

Hypothesis keeps its example database in the temporary directory, not in the checkout.
"""

from __future__ import annotations

import functools
import importlib.util
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from client_fakes import BASE, TOKEN_PATH, FakeTime, build_client, token_response
from hypothesis.configuration import set_hypothesis_home_dir

from ecartpay_async import AsyncClient, _json

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Hypothesis's examples and caches, kept between runs, but outside the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "ecartpay-async-hypothesis")


BACKENDS = ("asyncio", "trio")


@pytest.fixture
def anyio_backend() -> str:
    return BACKENDS[0]  # (every test that asks is parametrized below)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Async tests run on both backends; a test marked ``end_to_end`` on one only
    (asyncio, or the marker's ``backend=``); a test's own parametrization wins."""
    if "anyio_backend" not in metafunc.fixturenames:
        return
    own = metafunc.definition.iter_markers("parametrize")
    if any("anyio_backend" in marker.args[0] for marker in own):
        return
    end_to_end = metafunc.definition.get_closest_marker("end_to_end")
    if end_to_end is None:
        metafunc.parametrize("anyio_backend", BACKENDS)
    else:
        metafunc.parametrize("anyio_backend", [end_to_end.kwargs.get("backend", BACKENDS[0])])


# -- a client on a mocked API ---------------------------------------------------------------


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


# -- orders ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def order_examples() -> dict[str, Any]:
    """Every orders example in the OpenAPI file and the product page (numbers as Decimal)."""
    examples: dict[str, Any] = _json.loads((DATA / "orders" / "order_examples.json").read_bytes())
    return examples


@pytest.fixture(scope="session")
def marketplace() -> ModuleType:
    """``examples/marketplace_settlement.py``, imported as a module."""
    path = ROOT / "examples" / "marketplace_settlement.py"
    spec = importlib.util.spec_from_file_location("marketplace_settlement", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def mocked() -> AsyncIterator[tuple[respx.MockRouter, AsyncClient]]:
    """A respx router (token answered) and a client on it, for the read-only resources."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/api/authorizations/token").respond(json={"token": "tok"})
        async with httpx.AsyncClient() as http, AsyncClient(
            "pk_test", "sk_test", base_url=BASE, http_client=http
        ) as client:
            yield router, client
