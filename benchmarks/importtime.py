"""Wall time of ``import ecartpay_async`` against ``import httpx``, each in a fresh process.

The two are measured alternately, ``rounds`` times each, and the medians compared;
the child also reports whether any heavy optional module (aiohttp, trio, tenacity,
the batch engine) was loaded by the import, which it should not be.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

__all__ = ["import_times"]

_HEAVY = ("asyncio", "aiohttp", "yarl", "trio", "tenacity", "sqlite3", "uvicorn", "starlette")

_PROBE = """
import json, sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"seconds": elapsed, "heavy": heavy}}))
"""


def _probe(module: str) -> dict[str, Any]:
    code = _PROBE.format(module=module, heavy=_HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def import_times(rounds: int) -> dict[str, Any]:
    sdk: list[float] = []
    httpx: list[float] = []
    heavy: set[str] = set()
    for _ in range(rounds):
        httpx.append(_probe("httpx")["seconds"])
        probe = _probe("ecartpay_async")
        sdk.append(probe["seconds"])
        heavy.update(probe["heavy"])
    sdk_ms = statistics.median(sdk) * 1e3
    httpx_ms = statistics.median(httpx) * 1e3
    return {
        "rounds": rounds,
        "ecartpay_async_ms": round(sdk_ms, 1),
        "httpx_ms": round(httpx_ms, 1),
        "ratio": round(sdk_ms / httpx_ms, 2),
        "heavy_modules_loaded": sorted(heavy),
    }
