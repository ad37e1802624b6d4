"""The benchmark harness runs end to end in smoke mode (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow  # (CI runs it in the slow job, and only there)
def test_smoke_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    assert {"machine", "scenarios", "memory", "import", "targets"} <= set(results)
    for scenario in results["scenarios"]:
        assert all(row["all_paid"] for row in scenario["clients"].values())
    assert "## targets" in done.stdout
