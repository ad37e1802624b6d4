"""``python -m benchmarks``: the whole comparison, one command.

For each scenario a loopback server starts in its own process; every client then
runs in its own process, in interleaved rounds (A B C, A B C, ...), and the medians
are reported. ``--smoke`` is the seconds-long CI run (no timing is asserted);
``--full`` adds the 1 M-request memory run. Results go to a table on stdout and to
``benchmarks/results/latest.json`` (``smoke.json`` for ``--smoke``) unless ``--out``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from . import postgres_scale
from .chart import draw
from .importtime import import_times
from .machine import machine_info
from .processes import run_worker, server
from .report import summarize_scenario, table, targets
from .scenarios import Entry, Plan, Scenario, plan
from .sdk_clients import has_send_batch

__all__ = ["main", "run"]

RESULTS = Path(__file__).parent / "results"
# Clients over httpx's pool run at a tenth of the others' speed: fewer payouts keep
# a default run within minutes (throughput and CPU per payout are rates, so medians
# stay comparable; every run is still well past its warm-up).
SLOW_CLIENTS = frozenset({"httpx", "sdk-httpx", "t-httpcore"})
SLOW_COUNT = 1000


def _log(line: str) -> None:
    print(line, flush=True)


def _run_entry(entry: Entry, scenario: Scenario, url: str, workdir: Path, n: int) -> dict[str, Any]:
    journal = str(workdir / f"journal-{entry.client}-{n}.db") if entry.journal else None
    count = min(scenario.count, SLOW_COUNT) if entry.client in SLOW_CLIENTS else scenario.count
    return run_worker(
        entry.client, url, count=count, concurrency=scenario.concurrency,
        warmup=scenario.concurrency, journal=journal,
    )


def _scenario(scenario: Scenario, rounds: int, workdir: Path, log: Any) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {e.key: [] for e in scenario.entries}
    server_cpu: list[float] = []
    with server(scenario.latency_ms) as srv:
        for n in range(rounds):
            for entry in scenario.entries:
                before = srv.stats()
                result = _run_entry(entry, scenario, srv.url, workdir, n)
                after = srv.stats()
                served = after["requests"] - before["requests"]
                if served:
                    server_cpu.append((after["cpu_s"] - before["cpu_s"]) / served * 1e6)
                runs[entry.key].append(result)
                log(f"  {scenario.name} round {n + 1}: {entry.key:16} "
                    f"{result['count'] / result['wall_s']:8.0f}/s "
                    f"{result['cpu_s'] / result['count'] * 1e6:7.0f} µs CPU")
    return summarize_scenario(scenario, runs, server_cpu)


def _memory(sizes: tuple[int, ...], log: Any) -> dict[str, Any]:
    peak: dict[str, float] = {}
    rate: dict[str, float] = {}
    with server(0) as srv:
        for size in sizes:
            result = run_worker("sdk", srv.url, count=size, concurrency=64, warmup=64,
                                timeout=3600)
            peak[str(size)] = round(result["maxrss_kb"] / 1024, 1)
            rate[str(size)] = round(size / result["wall_s"], 1)
            log(f"  memory {size:>9,}: peak RSS {peak[str(size)]} MB")
    return {"client": "sdk (default transport)", "peak_rss_mb": peak, "rate": rate}


def run(the_plan: Plan, mode: str, log: Any = _log) -> dict[str, Any]:
    started = time.time()
    batch = has_send_batch()
    results: dict[str, Any] = {
        "mode": mode,
        "rounds": the_plan.rounds,
        "machine": machine_info(),
        "sdk_batch_path": "client.payouts.send_batch" if batch else
        "create loop: client.payouts.send in N workers of an anyio task group "
        "(send_batch not on this branch yet)",
        "scenarios": [],
    }
    with tempfile.TemporaryDirectory(prefix="ecartpay-bench-") as tmp:
        for scenario in the_plan.scenarios:
            log(f"{scenario.name}")
            results["scenarios"].append(_scenario(scenario, the_plan.rounds, Path(tmp), log))
    log("memory")
    results["memory"] = _memory(the_plan.memory_sizes, log)
    log("import time")
    results["import"] = import_times(the_plan.import_rounds)
    if mode != "smoke":  # worker processes on one PostgreSQL journal (benchmarks.postgres_scale)
        log("postgres journal: 1, 2 and 4 workers")
        results["postgres_scale"] = postgres_scale.measure(log=log)
    results["targets"] = targets(results)
    results["duration_s"] = round(time.time() - started, 1)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a few hundred payouts per client")
    parser.add_argument("--full", action="store_true", help="also the 1 M-request memory run")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (median)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "full" if args.full else "default"
    the_plan = plan(smoke=args.smoke, full=args.full, batch=has_send_batch(), rounds=args.rounds)
    results = run(the_plan, mode)
    out = args.out or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nwritten to {out} in {results['duration_s']} s")
    if not args.smoke and draw(results, RESULTS / "throughput.png"):
        print(f"chart: {RESULTS / 'throughput.png'}")


if __name__ == "__main__":
    main()
