"""Fixtures for the orders tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecartpay_async import _json

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def order_examples() -> dict[str, Any]:
    """Every orders example in the OpenAPI file and the product page (numbers as Decimal)."""
    return _json.loads((DATA / "order_examples.json").read_bytes())
