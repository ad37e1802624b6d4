"""Approval before real money: a production send asks the operator, through a real terminal.

Each test runs the command as a subprocess against a loopback sandbox, with
``--environment production`` and ``--base-url`` aimed at the sandbox: the prompt is
decided by the environment, never by the address.
"""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pexpect
import pytest
from operator_helpers import cli_env, command, write_rows

from ecartpay_async.sandbox import Sandbox

ROWS = [
    ("ana@example.com", "1250.00", "MXN", "apr-1", False),
    ("beto@example.com", "99.50", "MXN", "apr-2", False),
    ("carla@example.com", "10.00", "USD", "apr-3", True),
]


@pytest.fixture
def payroll(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "payroll.csv", ROWS)


def production_send(sandbox: Sandbox, payroll: Path, *extra: str) -> list[str]:
    return command("payouts", "send", str(payroll), "--environment", "production",
                   "--base-url", sandbox.base_url, *extra)


def spawn(args: list[str], sandbox: Sandbox) -> pexpect.spawn:
    return pexpect.spawn(args[0], args[1:], env=cli_env(sandbox), encoding="utf-8",
                         timeout=30, dimensions=(40, 200))


def test_a_wrong_count_sends_nothing(ecartpay_sandbox: Sandbox, payroll: Path) -> None:
    child = spawn(production_send(ecartpay_sandbox, payroll), ecartpay_sandbox)
    child.expect("PRODUCTION: about to pay 3 rows")
    child.expect(r"1,349\.50 MXN")
    child.expect(r"10\.00 USD")
    child.expect(r"Type the number of rows \(3\)")
    child.sendline("2")
    child.expect("not approved: nothing was sent")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert ecartpay_sandbox.state.payouts() == []


def test_the_right_count_sends(ecartpay_sandbox: Sandbox, payroll: Path) -> None:
    child = spawn(production_send(ecartpay_sandbox, payroll), ecartpay_sandbox)
    child.expect(r"Type the number of rows \(3\)")
    child.sendline("3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    sent = {p.reference_id: p.amount for p in ecartpay_sandbox.state.payouts()}
    assert sent == {r[3]: Decimal(r[1]) for r in ROWS}


def test_no_terminal_and_no_yes_refuses(ecartpay_sandbox: Sandbox, payroll: Path) -> None:
    result = subprocess.run(
        production_send(ecartpay_sandbox, payroll), env=cli_env(ecartpay_sandbox),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "refused" in result.stderr
    assert "--yes" in result.stderr
    assert ecartpay_sandbox.state.payouts() == []


def test_yes_sends_without_a_terminal(ecartpay_sandbox: Sandbox, payroll: Path) -> None:
    result = subprocess.run(
        production_send(ecartpay_sandbox, payroll, "--yes"), env=cli_env(ecartpay_sandbox),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "PRODUCTION: about to pay 3 rows" in result.stderr
    assert len(ecartpay_sandbox.state.payouts()) == 3


def test_the_sandbox_environment_never_asks(ecartpay_sandbox: Sandbox, payroll: Path) -> None:
    child = spawn(command("payouts", "send", str(payroll), "--environment", "sandbox",
                          "--base-url", ecartpay_sandbox.base_url), ecartpay_sandbox)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Type the number" not in child.before
    assert len(ecartpay_sandbox.state.payouts()) == 3


def test_dry_run_and_in_process_sandbox_never_ask(payroll: Path, tmp_path: Path) -> None:
    with Sandbox() as unused:  # only for the environment: nothing may reach it
        for extra in ("--dry-run", "--sandbox"):
            result = subprocess.run(
                command("payouts", "send", str(payroll), "--environment", "production", extra),
                env=cli_env(unused), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=60,
            )
            assert result.returncode == 0, result.stderr
            assert "PRODUCTION" not in result.stderr
        assert unused.state.payouts() == []


def test_the_approval_counts_one_row_in_the_singular() -> None:
    from decimal import Decimal

    from ecartpay_async.batch.source import CsvSummary
    from ecartpay_async.cli.approval import _describe

    shown = _describe(Path("one.csv"), CsvSummary(1, {"MXN": Decimal("985.50")}, 0))
    assert shown.splitlines()[0] == "PRODUCTION: about to pay 1 row from one.csv, real money:"
    assert "985.50 MXN" in shown
