"""The server's slow-downs on the progress line, and a quiet log however many 429s come."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from ecartpay_async._pause import PauseStats
from ecartpay_async.cli import main
from ecartpay_async.cli.display import LiveProgress, describe_pauses


def test_describe_pauses() -> None:
    assert describe_pauses(PauseStats()) == ""
    assert describe_pauses(PauseStats(pauses=3, asks=9, paused_seconds=4.25)) == (
        "3 pauses, 4.2s paused"
    )
    assert describe_pauses(PauseStats(pauses=1, asks=1, paused_seconds=0.5, remaining=1.5)) == (
        "paused 1.5s (1 pause, 0.5s in all)"
    )


def test_the_plain_progress_line_shows_pauses() -> None:
    console = Console(record=True, width=200, force_terminal=False)
    stats = PauseStats(pauses=2, asks=5, paused_seconds=3.0)
    with LiveProgress(console, 10, pauses=lambda: stats) as progress:
        progress._print_line()  # the line a plain output prints every two seconds
    assert console.export_text().strip().endswith("2 pauses, 3.0s paused")


def test_a_storm_of_429s_is_a_few_log_lines_and_a_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "email,amount,currency,reference_id\n"
        + "".join(f"p{i}@example.com,1.00,MXN,pause-{i}\n" for i in range(40)),
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="ecartpay_async"):
        result = CliRunner().invoke(main, [
            "payouts", "send", str(rows), "--sandbox", "--concurrency", "16",
            "--sandbox-faults", "429=0.1,retry_after=1",
        ])
    assert result.exit_code == 0, result.output
    said = [r for r in caplog.records if "asked to slow down" in r.getMessage()]
    assert 1 <= len(said) <= 2  # at most one line every five seconds
    progress = [line for line in result.stderr.splitlines() if " rows, " in line]
    assert "paused" in progress[-1]
