"""Ctrl-C in the middle of ``payouts send``: the counts so far, the report complete for
the rows handled and in the input's order, and the exact command that resumes."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecartpay_async.cli.export import ReportWriter

ROWS = 3000


def payroll(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    lines = ["email,amount,currency,reference_id"]
    lines += [f"s{i}@example.com,{i + 1}.00,MXN,int-{i}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_says_the_counts_the_report_and_the_command_that_resumes(
    tmp_path: Path, backend: str
) -> None:
    file, report, journal = payroll(tmp_path), tmp_path / "report.csv", tmp_path / "j.db"
    command = [sys.executable, "-m", "ecartpay_async", "payouts", "send", str(file), "--sandbox",
               "--sandbox-faults", "latency_ms=40", "--concurrency", "8",
               "--journal", str(journal), "--report", str(report)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "ECARTPAY_ASYNC_BACKEND": backend, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    # Ctrl-C once some rows are done (the plain progress line says so).
    deadline = time.monotonic() + 60
    for line in process.stderr:
        if " rows, " in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    said = [line for line in err.splitlines() if line]
    stopped = next(line for line in said if line.startswith("stopped after "))
    done = int(stopped.split()[2].replace(",", ""))
    assert 0 < done < ROWS
    assert f"of {ROWS:,}: paid={done} pending=0 failed=0" in stopped
    with report.open(encoding="utf-8") as handle:
        rows = [int(record["row"]) for record in csv.DictReader(handle)]
    # Every row handled, once, in the input's order (a row still in flight at Ctrl-C
    # was not handled: a later one may have finished before it).
    assert len(rows) == done
    assert rows == sorted(set(rows))
    assert f"report: {report} ({done:,} rows handled, in input order)" in said
    resume = next(line for line in said if line.startswith("to run again: "))
    assert resume.startswith("to run again: ecartpay-async payouts send ")
    for piece in (str(file), f"--journal {journal}", f"--report {report}", "--sandbox",
                  "--concurrency 8"):
        assert piece in resume


def test_the_report_lists_rows_in_the_input_s_order(tmp_path: Path) -> None:
    class Row:
        def __init__(self, row: int) -> None:
            self.row = row

    path = tmp_path / "r.jsonl"
    with ReportWriter(path, fields=("row",), record=lambda item: {"row": item.row}) as writer:
        for row in (3, 1, 2, 6, 4):  # finished out of order; 5 never did (cut short)
            writer.write(Row(row))
        assert writer.rows == 4  # 1 to 4 listed; 6 waits for 5
    assert path.read_text().splitlines() == [
        '{"row": 1}', '{"row": 2}', '{"row": 3}', '{"row": 4}', '{"row": 6}']
    assert writer.rows == 5
