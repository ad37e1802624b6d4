"""Fixtures for the transport tests (the servers themselves are in :mod:`.loopback`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .loopback import LoopbackServer, serve, well_behaved


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve(well_behaved) as running:
        yield running
