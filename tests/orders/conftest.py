"""Fixtures for the orders tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ecartpay_async import _json

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def order_examples() -> dict[str, Any]:
    """Every orders example in the OpenAPI file and the product page (numbers as Decimal)."""
    examples: dict[str, Any] = _json.loads((DATA / "order_examples.json").read_bytes())
    return examples


@pytest.fixture(scope="session")
def marketplace() -> ModuleType:
    """``examples/marketplace_settlement.py``, imported as a module."""
    path = Path(__file__).parents[2] / "examples" / "marketplace_settlement.py"
    spec = importlib.util.spec_from_file_location("marketplace_settlement", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
