"""Several workers, one PostgreSQL journal: does the batch scale with workers?

1, 2 and 4 worker processes each run ``send_batch`` on the same list of payouts with
``journal=PostgresJournal(...)`` (16 in flight each) against the loopback server
answering after 50 ms; the rows split between them through the journal. Reported:
rows per second from the first worker's start to the last one's end, the speed-up
over one worker (target: 4 workers >= 3x), and PostgreSQL's cost per row: the
journal's own count of statements and transactions, and ``xact_commit`` from
``pg_stat_database`` (every transaction the database committed, counted by the
server). Run alone with ``python -m benchmarks.postgres_scale``; ``python -m
benchmarks`` runs it after the client comparison (not in ``--smoke``).

The server is ``ECARTPAY_BENCH_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); a database of its own is
created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from .processes import server

__all__ = ["main", "measure"]

ADMIN_DSN = os.environ.get(
    "ECARTPAY_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WORKERS = (1, 2, 4)
ROWS = 4000
LATENCY_MS = 50.0
CONCURRENCY = 16


def _log(line: str) -> None:
    print(line, flush=True)


def measure(
    workers: tuple[int, ...] = WORKERS,
    rows: int = ROWS,
    latency_ms: float = LATENCY_MS,
    concurrency: int = CONCURRENCY,
    log: Any = _log,
) -> dict[str, Any]:
    """Run each worker count once on a fresh journal; return the numbers."""
    try:
        import psycopg
    except ImportError:
        return {"skipped": "the postgres extra is not installed"}
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        return {"skipped": f"no PostgreSQL at {ADMIN_DSN}: {str(exc).splitlines()[0]}"}
    database = f"ecartpay_bench_{uuid.uuid4().hex[:8]}"
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + database
    runs: list[dict[str, Any]] = []
    with admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            with server(latency_ms) as srv:
                for n in workers:
                    schema = f"scale_{n}"
                    before = _commits(admin, database)
                    results = _run_workers(n, srv.url, dsn, schema, rows, concurrency)
                    time.sleep(1.5)  # the server publishes its counters within a second
                    server_commits = _commits(admin, database) - before
                    run = _summarize(n, rows, results, server_commits)
                    runs.append(run)
                    log(f"  postgres journal, {n} worker(s): {run['rows_per_s']:7.0f} rows/s, "
                        f"{run['statements_per_row']:.2f} statements and "
                        f"{run['commits_per_row']:.2f} commits per row "
                        f"(server: {run['server_commits_per_row']:.2f}); "
                        f"{run['client_cpu_ms_per_row']:.2f} ms client CPU per row; "
                        f"rows per worker {run['made_per_worker']}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    one = runs[0]["rows_per_s"] if runs else 0.0
    for run in runs:
        run["speedup"] = round(run["rows_per_s"] / one, 2) if one else None
    return {
        "rows": rows,
        "latency_ms": latency_ms,
        "concurrency_per_worker": concurrency,
        "runs": runs,
        "target": "4 workers >= 3x one worker",
        "met": bool(runs) and runs[-1]["workers"] == 4 and (runs[-1]["speedup"] or 0) >= 3,
    }


def _commits(admin: Any, database: str) -> int:
    row = admin.execute(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (database,)
    ).fetchone()
    return int(row[0]) if row else 0


def _run_workers(
    n: int, url: str, dsn: str, schema: str, rows: int, concurrency: int
) -> list[dict[str, Any]]:
    # Every worker starts its batch at the same instant (as a scheduler would start
    # them on several hosts), once all have imported and built their requests.
    start_at = time.time() + 3.0 + n
    command = [
        sys.executable, "-m", "benchmarks.postgres_scale", "--worker", "--url", url,
        "--dsn", dsn, "--schema", schema, "--rows", str(rows),
        "--concurrency", str(concurrency), "--start-at", str(start_at),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"postgres scale worker failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _summarize(n: int, rows: int, results: list[dict[str, Any]], server_commits: int
               ) -> dict[str, Any]:
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    made = sum(r["made"] for r in results)
    return {
        "workers": n,
        "rows_paid": made,
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall, 1),
        "made_per_worker": [r["made"] for r in results],
        "client_cpu_ms_per_row": round(sum(r["cpu_s"] for r in results) / rows * 1000, 2),
        "statements_per_row": round(sum(r["statements"] for r in results) / rows, 2),
        "commits_per_row": round(sum(r["commits"] for r in results) / rows, 2),
        "server_commits_per_row": round(server_commits / rows, 2),
    }


def _worker(
    url: str, dsn: str, schema: str, rows: int, concurrency: int, start_at: float
) -> dict[str, Any]:
    """One worker process: the whole list, split with the others through the journal."""
    import anyio

    from ecartpay_async import AsyncClient, PayoutRequest
    from ecartpay_async.batch import PostgresJournal

    from .payloads import payout_bodies

    requests = [PayoutRequest(**body) for body in payout_bodies(rows, "scale")]

    async def run() -> dict[str, Any]:
        journal = PostgresJournal(dsn, schema=schema, batch="scale")
        async with AsyncClient("pub_bench", "priv_bench", base_url=url) as client:
            await anyio.sleep(max(0.0, start_at - time.time()))
            start, cpu = time.time(), time.process_time()
            report = await client.payouts.send_batch(
                requests, journal=journal, concurrency=concurrency
            )
            end, cpu = time.time(), time.process_time() - cpu
        if report.failed or report.not_attempted:
            raise RuntimeError(f"the batch did not finish: {report.abort_reason}")
        return {
            "start": start, "end": end, "cpu_s": cpu, "made": report.paid + report.pending,
            "statements": journal.statements, "commits": journal.commits,
        }

    result: dict[str, Any] = anyio.run(run)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.postgres_scale", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows in the batch")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY,
                        help="payouts in flight per worker")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.url, args.dsn, args.schema, args.rows, args.concurrency,
                                 args.start_at)))
        return
    print(json.dumps(measure(rows=args.rows, concurrency=args.concurrency), indent=2))


if __name__ == "__main__":
    main()
