"""A stateful local Ecart Pay emulator with fault injection (the ``sandbox`` extra).

::

    from ecartpay_async.sandbox import Sandbox

    async with Sandbox(faults="5xx=0.1,drop_after_commit=0.05", seed=7) as sb:
        async with sb.client() as client:
            payout = await client.payouts.create(...)
        assert len(sb.state.payouts()) == 1

Also ``ecartpay-async sandbox serve`` (or ``python -m ecartpay_async.sandbox serve``)
and the ``ecartpay_sandbox`` pytest fixture. Names are imported lazily so that the
pytest plugin loads without the extra installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import FaultInjector, FaultSpec
    from .fees import FeeSchedule
    from .profile import SandboxProfile
    from .server import Sandbox
    from .state import SandboxState
    from .webhooks import signature

__all__ = [
    "FaultInjector",
    "FaultSpec",
    "FeeSchedule",
    "Sandbox",
    "SandboxProfile",
    "SandboxState",
    "signature",
]

_HOMES = {
    "FaultInjector": "faults",
    "FaultSpec": "faults",
    "FeeSchedule": "fees",
    "Sandbox": "server",
    "SandboxProfile": "profile",
    "SandboxState": "state",
    "signature": "webhooks",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
