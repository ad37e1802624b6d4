"""What the benchmark ran on: CPU, cores, Python and library versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

__all__ = ["machine_info"]

_LIBRARIES = ("ecartpay-async", "httpx", "httpcore", "aiohttp", "anyio", "trio", "attrs", "cattrs")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_info() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "libraries": {name: _version(name) for name in _LIBRARIES},
        "commit": _commit(),
    }
