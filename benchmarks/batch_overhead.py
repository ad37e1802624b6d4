"""What ``send_batch`` costs over a bare ``client.payouts.send`` loop, and the journal's cost.

``python -m benchmarks.batch_overhead [N]`` runs, against the loopback server:

* client CPU per payout of the bare loop (``concurrency`` workers calling
  ``client.payouts.send``) and of ``client.payouts.send_batch`` on the same transport,
  latency 0 ms, 64 in flight, interleaved rounds, in this process (target: batch at
  most 1.15 x the loop);
* the engine alone: CPU per row of ``send_batch`` and of the bare loop over an
  in-memory sender that does nothing (the engine's own work, free of network noise);
* journal off / on at 50 ms latency, 64 in flight, through the harness's workers
  (target: on at least 0.95 x off).

``python -m benchmarks.batch_overhead memory N`` runs ``send_batch`` over the
in-memory sender for ``N`` rows from a generator and prints the process's peak RSS
(run it in fresh processes, e.g. for 10,000 and 1,000,000 rows: the engine's memory
must not grow with the rows).

CPU times on a shared machine are noisy: compare medians of the same run only.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from .payloads import payout_bodies
from .processes import server
from .run import _log, _scenario
from .scenarios import Entry, Scenario
from .sdk_clients import _create_loop, _sdk_client, payout_requests

ROUNDS = 3


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _client_run(url: str, kind: str, prefix: str, count: int) -> float:
    client = _sdk_client(url, 64, "auto")
    async with client:
        await _create_loop(client, payout_requests(payout_bodies(64, prefix + "-w")), 64)
        items = payout_requests(payout_bodies(count, prefix))
        started = _cpu()
        if kind == "loop":
            await _create_loop(client, items, 64)
        else:
            await client.payouts.send_batch(items, concurrency=64)
        return (_cpu() - started) / count * 1e6


class _NoSender:
    """An in-memory ``client.payouts`` that answers every payout at once."""

    def __init__(self) -> None:
        from ecartpay_async._pause import PauseGate

        self.pause_gate = PauseGate()

    async def send(self, request: Any, **options: Any) -> Any:
        from ecartpay_async.models.payouts import Payout
        from ecartpay_async.resources.payouts import SendResult

        await anyio.lowlevel.checkpoint()
        payout = Payout(id="po", status="paid", amount=request.amount,
                        currency=request.currency, reference_id=request.reference_id)
        return SendResult(payout, 1, recovered=False)

    async def find_by_reference(self, reference_id: str, **options: Any) -> None:
        return None


async def _engine_run(kind: str, count: int) -> float:
    from ecartpay_async import PayoutRequest
    from ecartpay_async.batch import send_batch

    requests = [PayoutRequest(**body) for body in payout_bodies(count, kind)]
    sender = _NoSender()
    started = time.process_time()
    if kind == "loop":
        rows: Iterator[Any] = iter(requests)

        async def worker() -> None:
            for request in rows:
                await sender.send(request)

        async with anyio.create_task_group() as group:
            for _ in range(64):
                group.start_soon(worker)
    else:
        await send_batch(sender, iter(requests), concurrency=64)
    return (time.process_time() - started) / count * 1e6


async def _cpu_rounds(count: int) -> dict[str, list[float]]:
    runs: dict[str, list[float]] = {"loop": [], "batch": [], "engine loop": [],
                                    "engine batch": []}
    with server(0) as srv:
        for n in range(ROUNDS):
            for kind in ("loop", "batch"):
                runs[kind].append(await _client_run(srv.url, kind, f"{kind}-{n}", count))
    for _ in range(ROUNDS):
        for kind in ("loop", "batch"):
            runs[f"engine {kind}"].append(await _engine_run(kind, 20_000))
    return runs


async def _memory(count: int) -> None:
    from ecartpay_async import PayoutRequest
    from ecartpay_async.batch import send_batch

    requests = (PayoutRequest(**body) for body in payout_bodies(count, "memory"))
    report = await send_batch(_NoSender(), requests, concurrency=64)
    assert report.paid == count
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count:,} rows: peak RSS {peak:.1f} MB")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "memory":
        anyio.run(_memory, int(args[1]))
        return
    count = int(args[0]) if args else 3000
    runs = anyio.run(_cpu_rounds, count)
    median = {kind: statistics.median(values) for kind, values in runs.items()}
    for kind, values in runs.items():
        print(f"{kind:13} CPU µs per payout: median {median[kind]:6.1f}  "
              f"({', '.join(f'{v:.1f}' for v in values)})")
    print(f"send_batch / bare loop CPU: {median['batch'] / median['loop']:.2f} (target 1.15)")
    print(f"engine's own work: {median['engine batch'] - median['engine loop']:.1f} µs per row")
    journal = Scenario("journal off/on, latency 50 ms, concurrency 64", 50, 64, count,
                       (Entry("sdk"), Entry("sdk", journal=True)))
    with tempfile.TemporaryDirectory() as workdir:
        result = _scenario(journal, ROUNDS, Path(workdir), _log)
    clients = result["clients"]
    off, on = clients["sdk"]["payouts_per_s"], clients["sdk+journal"]["payouts_per_s"]
    print(f"journal on / off throughput at 50 ms: {on:.0f} / {off:.0f} = {on / off:.2f} "
          "(target 0.95)")


if __name__ == "__main__":
    main()
