"""The payouts every client sends: the same bodies, produced lazily from a generator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["payout_bodies"]


def payout_bodies(count: int, prefix: str) -> Iterator[dict[str, Any]]:
    """``count`` payout bodies with unique reference ids, made one at a time."""
    for i in range(count):
        yield {
            "email": f"user{i % 10_000}@example.com",
            "reference_id": f"{prefix}-{i:08d}",
            "amount": "1250.00",
            "currency": "MXN",
            "require_confirmation": False,
        }
