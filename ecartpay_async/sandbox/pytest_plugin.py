"""The ``ecartpay_sandbox`` pytest fixture (registered through the ``pytest11`` entry point).

::

    def test_payroll(ecartpay_sandbox):            # sync or async, asyncio or trio
        client = ecartpay_sandbox.client()
        ...

    @pytest.mark.ecartpay_sandbox(faults="5xx=0.2", seed=1, token_ttl=2)
    async def test_payroll_survives(ecartpay_sandbox): ...

Each test gets a fresh :class:`~ecartpay_async.sandbox.Sandbox` on a loopback port,
served from its own thread; the marker's keyword arguments go to ``Sandbox``.
Nothing heavy is imported until the fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import Sandbox


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ecartpay_sandbox(**options): keyword arguments for the ecartpay_sandbox fixture's Sandbox",
    )


@pytest.fixture
def ecartpay_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A started Ecart Pay sandbox on a loopback port, stopped after the test."""
    from .server import Sandbox

    marker = request.node.get_closest_marker("ecartpay_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    if options.get("in_process"):
        raise pytest.UsageError(
            "the ecartpay_sandbox fixture serves on a port; in_process is not available"
        )
    with Sandbox(**options) as sandbox:
        yield sandbox
