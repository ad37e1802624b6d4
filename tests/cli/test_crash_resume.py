"""kill -9 at random moments, restart until done: every row is paid exactly once.

The batch runs as ``python -m ecartpay_async payouts send`` in a subprocess against a
sandbox served on a loopback port by this test; the sandbox outlives every kill.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from batch_fakes import make_requests, watch_reuses

from ecartpay_async.sandbox import Sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.end_to_end(backend="trio")]

ROWS = 600


def write_csv(path: Path) -> list[dict[str, str]]:
    rows = [
        {"email": r.email or "", "amount": str(r.amount), "currency": r.currency,
         "reference_id": r.reference_id or "",
         "require_confirmation": "yes" if r.require_confirmation else "no"}
        for r in make_requests(ROWS, prefix="crash")
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


class Killer:
    """Kills the batch process with SIGKILL right after the sandbox commits its n-th
    payout, before the answer goes back: the moment a lost answer hurts most."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.pid: int | None = None
        self.target = 0
        self.kills = 0
        original = sandbox.state.create_payout

        def create_payout(*args, **kwargs):  # type: ignore[no-untyped-def]
            payout = original(*args, **kwargs)
            if self.pid is not None and len(sandbox.state.payouts()) >= self.target:
                os.kill(self.pid, signal.SIGKILL)
                self.pid = None
                self.kills += 1
            return payout

        sandbox.state.create_payout = create_payout  # type: ignore[method-assign]

    def arm(self, pid: int, target: int) -> None:
        self.target = target
        self.pid = pid


async def test_sigkill_three_times_then_finish(tmp_path: Path, anyio_backend: str) -> None:
    rows = write_csv(tmp_path / "payroll.csv")
    journal = tmp_path / "payroll.db"
    report = tmp_path / "report.jsonl"
    rng = random.Random(20261121)
    async with Sandbox(faults="drop_after_commit=0.03,5xx=0.03,retry_after=0.05", seed=5) as sb:
        reused = watch_reuses(sb)
        killer = Killer(sb)
        env = {
            **os.environ,
            "ECARTPAY_PUBLIC_KEY": sb.public_key,
            "ECARTPAY_PRIVATE_KEY": sb.private_key,
            "ECARTPAY_ASYNC_BACKEND": anyio_backend,
        }
        command = [
            sys.executable, "-m", "ecartpay_async", "payouts", "send",
            str(tmp_path / "payroll.csv"), "--journal", str(journal),
            "--base-url", sb.base_url, "--concurrency", "16", "--report", str(report),
        ]
        for low, high in ((0.05, 0.3), (0.35, 0.6), (0.65, 0.9)):
            async with await anyio.open_process(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ) as process:
                killer.arm(process.pid, int(ROWS * rng.uniform(low, high)))
                assert await process.wait() == -signal.SIGKILL
        assert killer.kills == 3  # each kill landed mid-batch
        assert len(sb.state.payouts()) < ROWS

        finished = await anyio.run_process(command, env=env, check=False)
        assert finished.returncode == 0, finished.stderr.decode()[-2000:]
        assert f"{ROWS:,}" in finished.stdout.decode()  # the summary table

        payouts = sb.state.payouts()
        by_reference = {p.reference_id: p for p in payouts}
        assert len(payouts) == len(by_reference) == ROWS  # one payout per row
        for row in rows:
            assert by_reference[row["reference_id"]].amount == Decimal(row["amount"])
        assert reused == []  # no reference_id was ever sent a second time

    # The last run's report accounts for every row once, each with the one payout.
    records = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["row"] for r in records) == list(range(1, ROWS + 1))
    assert {r["status"] for r in records} <= {"skipped", "paid", "pending"}
    assert {r["payout_id"] for r in records} == {p.id for p in payouts}
    assert any(r["status"] == "skipped" for r in records)
