"""Fixtures for the transport tests (the servers themselves are in :mod:`.loopback`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .loopback import LoopbackServer, serve, well_behaved

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
                   "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def _clean_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA setting of the machine leaks into a test; tests set their own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve(well_behaved) as running:
        yield running
