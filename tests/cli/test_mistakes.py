"""The command line at every mistake a new user makes: one clear line, the right exit code."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from ecartpay_async.batch.outcome import Outcome, OutcomeStatus
from ecartpay_async.batch.report import ReportBuilder
from ecartpay_async.cli import display, main
from ecartpay_async.cli._extra import MISSING_EXTRA
from ecartpay_async.models.payouts import PayoutRequest
from ecartpay_async.sandbox import Sandbox

HEADER = "email,amount,currency,reference_id,require_confirmation\n"
ROWS = (
    "ana@example.com,10.00,MXN,r-1,no\n"
    "beto@example.com,20.50,MXN,r-2,yes\n"
    "carla@example.com,5,MXN,r-3,yes\n"
)
KEYS = {"ECARTPAY_PUBLIC_KEY": "pub_test", "ECARTPAY_PRIVATE_KEY": "priv_test"}


def run(args: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, args, env=env)


def rows_file(tmp_path: Path, body: str = ROWS) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_address_nobody_listens_on_stops_at_once_with_one_line(
    tmp_path: Path, backend: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    report = tmp_path / "report.csv"
    result = run(
        ["payouts", "send", str(rows_file(tmp_path)), "--base-url", url, "--max-retries", "0",
         "--report", str(report)],
        ECARTPAY_ASYNC_BACKEND=backend, **KEYS,
    )
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach {url} (")
    assert "--base-url" in line
    assert "priv_test" not in result.output
    assert len(report.read_text(encoding="utf-8").splitlines()) == 1 + 3  # every row reported


def test_latency_is_only_counted_for_rows_that_reached_the_api() -> None:
    request = PayoutRequest(email="ana@example.com", amount=Decimal("1"), currency="MXN",
                            reference_id="r-1")
    builder = ReportBuilder()
    builder.add(Outcome(1, OutcomeStatus.FAILED, request, error=RuntimeError("no token")), 45.0)
    report = builder.build(duration=45.0)
    assert report.attempts == 0
    assert report.latency_p50 is None
    builder.add(Outcome(2, OutcomeStatus.PAID, request, attempts=1), 0.05)
    assert builder.build(duration=45.0).latency_p50 == pytest.approx(0.05, rel=0.02)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_the_plain_progress_line_shows_no_eta_before_the_rate_means_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    monkeypatch.setattr(display, "time", clock)
    out = io.StringIO()
    console = Console(file=out, width=200)
    request = PayoutRequest(email="ana@example.com", amount=Decimal("1"), currency="MXN",
                            reference_id="r-1")
    failed = Outcome(1, OutcomeStatus.FAILED, request, error=RuntimeError("down"))
    with display.LiveProgress(console, 3000) as progress:
        clock.now += 45  # the first rows finish after 45 s (a dead address, say)
        progress.add(failed)
        for _ in range(199):
            progress.add(failed)
        clock.now += 3
        progress.add(failed)
    first, second = out.getvalue().splitlines()
    assert first == "1/3000 (0%) rows, 0.0/s, paid=0 pending=0 failed=1"
    assert second.startswith("201/3000 (7%) rows, 4.2/s eta ")


def test_confirm_refuses_a_time_without_an_offset_and_shows_the_forms() -> None:
    for value in ("2026-12-01", "2026-12-01T09:00:00"):
        result = run(["payouts", "confirm", "p1", "--available-at", value], **KEYS)
        assert result.exit_code == 2, result.output
        assert "has no UTC offset" in result.stderr
        assert "2026-12-01T09:00:00-06:00" in result.stderr
        assert "2026-12-01T15:00:00Z" in result.stderr


def held_payout(sb: Sandbox, reference_id: str) -> str:
    """The id of a 12.00 MXN payout created in ``sb`` that waits for a confirmation."""

    async def hold() -> str:
        async with sb.client() as client:
            payout = await client.payouts.create(
                email="ana@example.com", reference_id=reference_id, amount=Decimal("12.00"),
                currency="MXN", require_confirmation=True,
            )
        return payout.id

    return anyio.run(hold)

@pytest.mark.clock
def test_confirm_schedules_at_an_aware_time() -> None:
    with Sandbox() as sb:
        payout_id = held_payout(sb, "later")
        # A day after now, whatever today is: a time already past would credit at once.
        later = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
        result = run(["payouts", "confirm", payout_id,
                      "--available-at", later.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "--json", "--base-url", sb.base_url],
                     ECARTPAY_PUBLIC_KEY=sb.public_key, ECARTPAY_PRIVATE_KEY=sb.private_key)
    assert result.exit_code == 0, result.output
    assert f'"available_at":"{later.strftime("%Y-%m-%dT%H:%M:%S")}' in result.stdout


@pytest.mark.parametrize("terminal_answer", [None, "n", "y"])
def test_confirm_refuses_a_past_available_at_or_asks_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal_answer: str | None
) -> None:
    """A wrong year in --available-at must not release held money at once."""
    from ecartpay_async.cli import confirm

    if terminal_answer is not None:  # as on a terminal: the operator is asked
        monkeypatch.setattr(confirm, "on_a_terminal", lambda: True)
    with Sandbox() as sb:
        payout_id = held_payout(sb, "held")
        # The year mistyped: a year before now.
        past = (datetime.now(timezone.utc) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
        held = tmp_path / "held.csv"
        held.write_text("reference_id\nheld\n", encoding="utf-8")
        env = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        for target in ([payout_id], ["--from", str(held)]):
            result = CliRunner().invoke(
                main, ["payouts", "confirm", *target, "--available-at", past,
                       "--base-url", sb.base_url],
                env=env, input=terminal_answer and terminal_answer + "\n",
            )
            if terminal_answer == "y":
                assert result.exit_code == 0, result.output
                break
            assert result.exit_code == 2, result.output
            assert "is in the past" in result.stderr
            assert [p.status for p in sb.state.payouts()] == ["pending"]
        if terminal_answer == "y":
            assert "Release them now?" in result.stderr
            assert [p.status for p in sb.state.payouts()] == ["paid"]


def test_a_file_that_cannot_be_read_is_reported_once(tmp_path: Path) -> None:
    result = run(["payouts", "send", str(tmp_path / "nope.csv")], **KEYS)
    assert result.exit_code == 2
    assert result.stderr.count("cannot be read") == 1
    assert "row 0" not in result.stderr
    assert "file: cannot be read: No such file or directory" in result.stderr


def test_missing_keys_name_the_variables_and_the_sandbox(tmp_path: Path) -> None:
    result = run(["payouts", "send", str(rows_file(tmp_path))],
                 ECARTPAY_PUBLIC_KEY="", ECARTPAY_PRIVATE_KEY="")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no Ecart Pay keys: set the environment variables ECARTPAY_PUBLIC_KEY and "
        "ECARTPAY_PRIVATE_KEY, or add --sandbox to try without keys"
    ]
    assert "public_key=" not in result.stderr
    only_private = run(["payouts", "list"], ECARTPAY_PUBLIC_KEY="pub", ECARTPAY_PRIVATE_KEY="")
    assert only_private.exit_code == 2
    assert "set the environment variable ECARTPAY_PRIVATE_KEY" in only_private.stderr


def test_send_help_lists_the_variables_and_the_exit_codes() -> None:
    result = run(["payouts", "send", "--help"])
    assert result.exit_code == 0
    for text in ("ECARTPAY_PUBLIC_KEY", "ECARTPAY_PRIVATE_KEY", "ECARTPAY_BASE_URL",
                 "Exit codes:"):
        assert text in result.stdout
    codes = [line.split()[0] for line in result.stdout.split("Exit codes:")[1].splitlines()
             if line.strip()]
    assert codes == ["0", "1", "2", "3", "4", "130"]


def test_the_dry_run_keeps_a_long_path_whole(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 10))
    deep.mkdir(parents=True)
    path = rows_file(deep)
    assert len(str(path)) > 200
    result = run(["payouts", "send", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{path}: 3 valid rows (dry run, nothing sent)" in result.stdout.splitlines()


def test_a_rerun_shows_rows_still_waiting_for_confirmation_as_pending(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), tmp_path / "run.db"
    with Sandbox() as sb:
        env = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        args = ["payouts", "send", str(path), "--journal", str(journal), "--base-url", sb.base_url,
                "--expect-done"]
        first = run(args, **env)
        assert first.exit_code == 0, first.output
        again = run(args, **env)
        assert len(sb.state.payouts()) == 3
    assert again.exit_code == 0, again.output
    table = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
             for line in again.stdout.splitlines() if line.startswith("│")}
    assert table["still pending (sent by an earlier run)"] == ["2", "25.50"]
    assert table["already paid earlier"] == ["1", "10.00"]
    assert table["total"] == ["3", "35.50"]
    assert ("paid now: 0 rows, -; already paid earlier: 1 row, 10.00 MXN; still pending from "
            "an earlier run: 2 rows, 25.50 MXN") in again.stdout


@pytest.mark.parametrize(
    ("missing", "args"),
    [("click", ["--help"]), ("rich", ["payouts", "send", "rows.csv", "--dry-run"])],
)
def test_without_the_cli_extra_the_command_names_it_in_one_line(
    tmp_path: Path, missing: str, args: list[str]
) -> None:
    rows_file(tmp_path)
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"  # as if not installed
        "from ecartpay_async.cli import main\n"
        f"main({args!r}, prog_name='ecartpay-async')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [MISSING_EXTRA]
    assert result.stdout == ""


def test_the_readme_lists_the_exit_codes_the_command_uses() -> None:
    from ecartpay_async.cli.app import EXIT_CODES

    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| `")]
    assert [(int(code.strip(" `")), meaning.strip()) for code, meaning in rows] == list(EXIT_CODES)
