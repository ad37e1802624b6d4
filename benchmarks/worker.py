"""One client's run, in its own process so that its CPU time and peak RSS are its own.

``python -m benchmarks.worker CLIENT --url URL --count N --concurrency C`` warms the
client up (token, connections) with ``--warmup`` payouts, then sends ``N`` payouts
from a generator (after one full garbage collection, the same for every client)
and prints one JSON line: wall and CPU seconds of the measured part,
successes, RSS before it and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import time
from typing import Any

import anyio

from .clients import CLIENTS
from .payloads import payout_bodies

__all__ = ["main", "measure"]


def _rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    client: str, url: str, count: int, concurrency: int, warmup: int, journal: str | None
) -> dict[str, Any]:
    spec = CLIENTS[client]
    run_id = f"{client}-{os.getpid()}-{time.time_ns()}"
    async with spec.open(url, concurrency, journal) as run:
        if warmup:
            await run(spec.items(payout_bodies(warmup, f"{run_id}-w")), concurrency)
        # Every client's process starts its measured part from the same collector
        # state: the first full collection after start-up (~15 ms, every object the
        # imports made) is a one-time cost, not a per-payout one, and would otherwise
        # fall inside some runs and not others.
        gc.collect()
        rss_before = _rss_kb()
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        ok = await run(spec.items(payout_bodies(count, run_id)), concurrency)
        wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    return {
        "client": client,
        "count": count,
        "ok": ok,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before_kb": rss_before,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client", choices=sorted(CLIENTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--journal", default=None, help="journal file (SDK batch clients)")
    args = parser.parse_args(argv)
    result = anyio.run(
        measure,
        args.client,
        args.url,
        args.count,
        args.concurrency,
        args.warmup,
        args.journal,
        backend=CLIENTS[args.client].backend,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
