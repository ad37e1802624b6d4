"""Three worker processes on one PostgreSQL journal split a batch; kill -9 hits them.

``ecartpay-async payouts send FILE --journal DSN`` runs three times at once against one
sandbox with faults (5xx, 429, resets, answers dropped after the commit). A random
worker is killed with SIGKILL three times, right after the sandbox commits a payout,
and started again. At the end every row is paid exactly once, to the cent, and every
worker sent some of them. Leases are 5 s here (``ECARTPAY_JOURNAL_LEASE``; 30 by
default) so rows of a killed worker are taken over soon, yet a worker whose renewal
waits behind a long statement on a busy machine (two runs of the suite at once on two
cores) keeps its rows.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from batch_fakes import make_requests, watch_reuses
from pg_helpers import pg_database, psycopg, terminate_journal_connections

from ecartpay_async.sandbox import Sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.end_to_end]
__all__ = ["pg_database"]  # the fixture, imported for pytest

ROWS = 6000
WORKERS = 3
FAULTS = "5xx=0.02,429=0.01,reset=0.01,drop_after_commit=0.02,retry_after=0.05"


def write_csv(path: Path, rows: int, prefix: str) -> list[dict[str, str]]:
    records = [
        {"email": r.email or "", "amount": str(r.amount), "currency": r.currency,
         "reference_id": r.reference_id or ""}
        for r in make_requests(rows, prefix=prefix)
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return records


def worker_env(sandbox: Sandbox, backend: str) -> dict[str, str]:
    return {
        **os.environ,
        "ECARTPAY_PUBLIC_KEY": sandbox.public_key,
        "ECARTPAY_PRIVATE_KEY": sandbox.private_key,
        "ECARTPAY_ASYNC_BACKEND": backend,
        "ECARTPAY_JOURNAL_LEASE": "5",
    }


def send_command(csv_path: Path, dsn: str, sandbox: Sandbox, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "ecartpay_async", "payouts", "send", str(csv_path),
        "--journal", dsn, "--base-url", sandbox.base_url, "--concurrency", "16", *extra,
    ]


class RandomKiller:
    """SIGKILLs a random running worker right after the sandbox commits the n-th payout
    of each target: the moment a lost answer hurts most."""

    def __init__(self, sandbox: Sandbox, targets: list[int], seed: int) -> None:
        self.targets = targets
        self.rng = random.Random(seed)
        self.pids: dict[int, int] = {}  # slot -> pid of its running worker
        self.killed: list[int] = []
        self._lock = threading.Lock()
        original = sandbox.state.create_payout

        def create_payout(*args, **kwargs):  # type: ignore[no-untyped-def]
            payout = original(*args, **kwargs)
            with self._lock:
                if self.targets and len(sandbox.state.payouts()) >= self.targets[0] and self.pids:
                    slot = self.rng.choice(sorted(self.pids))
                    os.kill(self.pids.pop(slot), signal.SIGKILL)
                    self.targets.pop(0)
                    self.killed.append(slot)
            return payout

        sandbox.state.create_payout = create_payout  # type: ignore[method-assign]

    def started(self, slot: int, pid: int) -> None:
        with self._lock:
            self.pids[slot] = pid

    def exited(self, slot: int) -> None:
        with self._lock:
            self.pids.pop(slot, None)


async def test_three_workers_split_6000_rows_through_three_kills(
    tmp_path: Path, pg_database: str, anyio_backend: str
) -> None:
    rows = write_csv(tmp_path / "payroll.csv", ROWS, "multi")
    rng = random.Random(20261122)
    targets = sorted(int(ROWS * rng.uniform(low, high))
                     for low, high in ((0.1, 0.3), (0.35, 0.55), (0.6, 0.8)))
    pids: dict[int, list[int]] = {slot: [] for slot in range(WORKERS)}
    async with Sandbox(faults=FAULTS, seed=7) as sb:
        reused = watch_reuses(sb)
        killer = RandomKiller(sb, targets, seed=11)
        env = worker_env(sb, anyio_backend)
        command = send_command(tmp_path / "payroll.csv", pg_database, sb)

        async def run_slot(slot: int) -> None:
            for run in range(5):  # bounded: at most three kills in all
                log = tmp_path / f"worker-{slot}-{run}.log"
                with log.open("wb") as output:
                    async with await anyio.open_process(
                        command, env=env, stdout=output, stderr=subprocess.STDOUT
                    ) as process:
                        pids[slot].append(process.pid)
                        killer.started(slot, process.pid)
                        code = await process.wait()
                        killer.exited(slot)
                if code != -signal.SIGKILL:
                    said = log.read_text(errors="replace")[-3000:]
                    assert code in (0, 1), f"worker {slot} exited with {code}:\n{said}"
                    return
            raise AssertionError(f"worker {slot} was killed too often")

        with anyio.fail_after(240):
            async with anyio.create_task_group() as group:
                for slot in range(WORKERS):
                    group.start_soon(run_slot, slot)
        assert len(killer.killed) == 3  # each kill landed while workers ran

        # A last run: any row a worker gave up on during its run (all retries failed)
        # is retried here, after a lookup; it must find nothing left to do twice.
        finished = await anyio.run_process(command, env=env, check=False)
        assert finished.returncode == 0, finished.stderr.decode()[-2000:]

        payouts = sb.state.payouts()
        by_reference = {p.reference_id: p for p in payouts}
        assert len(payouts) == len(by_reference) == ROWS  # one payout per row
        for row in rows:
            assert by_reference[row["reference_id"]].amount == Decimal(row["amount"])
        assert reused == []  # no reference_id was ever sent a second time

    # Every worker sent some rows: the journal names the worker that finished each.
    with psycopg.connect(pg_database) as conn:
        finishers = dict(conn.execute(
            "SELECT split_part(worker, ':', 2)::int, count(*) FROM ecartpay.payouts "
            "WHERE state IN ('paid', 'pending_confirmation') GROUP BY 1"
        ).fetchall())
    for slot, slot_pids in pids.items():
        assert sum(finishers.get(pid, 0) for pid in slot_pids) > 0, f"worker {slot} sent none"


async def test_status_prints_the_batch_across_workers(
    tmp_path: Path, pg_database: str, anyio_backend: str
) -> None:
    write_csv(tmp_path / "march.csv", 40, "status")
    async with Sandbox() as sb:
        env = worker_env(sb, anyio_backend)
        result = await anyio.run_process(
            send_command(tmp_path / "march.csv", pg_database, sb, "--batch", "march"),
            env=env, check=False,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        assert "payouts made here" in result.stdout.decode()
    status = await anyio.run_process(
        [sys.executable, "-m", "ecartpay_async", "payouts", "status", "--journal", pg_database,
         "--batch", "march"], check=False,
    )
    out = status.stdout.decode()
    assert status.returncode == 0, status.stderr.decode()
    assert "batch march: 40 rows, 40 final" in out
    assert "MXN" in out


async def test_an_unreachable_journal_sends_nothing(tmp_path: Path, anyio_backend: str) -> None:
    write_csv(tmp_path / "payroll.csv", 5, "unreachable")
    async with Sandbox() as sb:
        result = await anyio.run_process(
            send_command(tmp_path / "payroll.csv", "postgresql://postgres:hunter2@127.0.0.1:1/x",
                         sb),
            env=worker_env(sb, anyio_backend), check=False,
        )
        assert result.returncode == 2
        error = result.stderr.decode()
        assert "cannot reach the journal postgresql://postgres@127.0.0.1:1/x" in error
        assert "hunter2" not in error + result.stdout.decode()
        assert sb.state.payouts() == []


async def test_journal_connections_killed_mid_batch_then_resumed(
    tmp_path: Path, pg_database: str, anyio_backend: str
) -> None:
    """As a database restart: the worker stops with a clear message; nothing is paid
    twice, and the next run finishes the batch."""
    rows = 800
    write_csv(tmp_path / "payroll.csv", rows, "restart")
    async with Sandbox(latency_ms=5) as sb:
        reused = watch_reuses(sb)
        env = worker_env(sb, anyio_backend)
        command = send_command(tmp_path / "payroll.csv", pg_database, sb)
        quarter = threading.Event()
        original = sb.state.create_payout

        def create_payout(*args, **kwargs):  # type: ignore[no-untyped-def]
            payout = original(*args, **kwargs)
            if len(sb.state.payouts()) >= rows // 4:
                quarter.set()
            return payout

        sb.state.create_payout = create_payout  # type: ignore[method-assign]
        async with await anyio.open_process(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        ) as process:
            assert await anyio.to_thread.run_sync(quarter.wait, 60)
            killed = await anyio.to_thread.run_sync(terminate_journal_connections, "ecartpay")
            assert killed >= 1
            assert process.stdout is not None
            out = (await _read_all(process.stdout)).decode()
            code = await process.wait()
        assert code == 3, out  # stopped, not crashed
        assert "lost the connection to the journal" in out
        assert len(sb.state.payouts()) < rows

        finished = await anyio.run_process(command, env=env, check=False)
        assert finished.returncode == 0, (finished.stdout + finished.stderr).decode()[-3000:]
        payouts = sb.state.payouts()
        assert len(payouts) == len({p.reference_id for p in payouts}) == rows
        assert reused == []


async def _read_all(stream: anyio.abc.ByteReceiveStream) -> bytes:
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
    return b"".join(chunks)
