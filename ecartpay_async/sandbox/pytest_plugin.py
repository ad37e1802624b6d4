"""The ``ecartpay_sandbox`` pytest fixture (registered through the ``pytest11`` entry point).

::

    def test_payroll(ecartpay_sandbox):            # sync or async, asyncio or trio
        client = ecartpay_sandbox.client()
        ...

    @pytest.mark.ecartpay_sandbox(faults="5xx=0.2", seed=1, token_ttl=2)
    async def test_payroll_survives(ecartpay_sandbox): ...

Each test gets a fresh :class:`~ecartpay_async.sandbox.Sandbox` on a loopback port,
served from its own thread; the marker's keyword arguments go to ``Sandbox``.
Starting balances: ``pytest --ecartpay-balance MXN=50000`` (repeatable; the other
currencies keep the default funding) for every test, or the marker's ``balances=``
(exactly the currencies named) for one. Nothing heavy is imported until the fixture
is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import Sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("ecartpay").addoption(
        "--ecartpay-balance", action="append", default=[], metavar="CUR=AMOUNT",
        help="Starting balance of the ecartpay_sandbox fixture's merchant in a currency "
             "(repeatable), e.g. MXN=50000",
    )


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
    given = request.config.getoption("--ecartpay-balance", default=[])
    if given and "balances" not in options:
        from .state import parse_balances

        try:
            options["balances"] = parse_balances(given)
        except ValueError as exc:
            raise pytest.UsageError(f"--ecartpay-balance: {exc}") from None
    with Sandbox(**options) as sandbox:
        yield sandbox
