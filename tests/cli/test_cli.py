"""The ``ecartpay-async`` command: the main job, exit codes, reports, list/get/confirm."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

PAYROLL = Path(__file__).parent.parent.parent / "examples" / "payroll.csv"
HEADER = "email,amount,currency,reference_id,require_confirmation\n"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def invoke(args: list[str], sandbox: Sandbox | None = None, **env: str) -> Result:
    environment = dict(env)
    if sandbox is not None:
        environment.setdefault("ECARTPAY_PUBLIC_KEY", sandbox.public_key)
        environment.setdefault("ECARTPAY_PRIVATE_KEY", sandbox.private_key)
        args = [*args, "--base-url", sandbox.base_url]
    result = CliRunner().invoke(main, args, env=environment)
    if sandbox is not None:
        assert sandbox.private_key not in result.output
    return result


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_main_job_pays_the_example_payroll(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    result = invoke(["payouts", "send", str(PAYROLL), "--sandbox", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "sandbox: 3,000 payouts recorded for 3,000 reference_ids" in result.stdout
    assert "3,000" in result.stdout
    assert "paid" in result.stdout
    assert "pending" in result.stdout
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3000
    assert {r["status"] for r in rows} == {"paid", "pending"}
    with PAYROLL.open(encoding="utf-8") as handle:
        expected = {r["reference_id"]: Decimal(r["amount"]) for r in csv.DictReader(handle)}
    assert {r["reference_id"]: Decimal(r["amount"]) for r in rows} == expected
    assert all(r["payout_id"] for r in rows)


def test_dry_run_validates_and_totals_without_sending() -> None:
    result = invoke(["payouts", "send", str(PAYROLL), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3,000 valid rows" in result.stdout
    assert "55,218,229.48" in result.stdout  # exact, from the Decimal total
    assert "MXN" in result.stdout


def test_failed_rows_exit_1_and_are_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ana@example.com,10.00,MXN,r-1,no\n"
        "nobody@example.com,20.00,MXN,r-2,no\n"
        "beto@example.com,30.00,MXN,r-3,yes\n",
    )
    report = tmp_path / "out.jsonl"
    with Sandbox(auto_register=False) as sb:
        for email in ("ana@example.com", "beto@example.com"):
            sb.state.upsert_account({"email": email})
        result = invoke(["payouts", "send", str(path), "--report", str(report)], sb)
        assert len(sb.state.payouts()) == 2
    assert result.exit_code == 1, result.output
    assert "r-2" in result.stdout
    assert "no Ecart Pay account is registered" in result.stdout
    records = {json.loads(line)["reference_id"]: json.loads(line)
               for line in report.read_text().splitlines()}
    assert records["r-2"]["status"] == "failed"
    assert records["r-2"]["error_type"] == "BadRequestError"
    assert records["r-1"]["status"] == "paid"
    assert records["r-3"]["status"] == "pending"
    assert records["r-1"]["amount"] == "10.00"


def test_refused_keys_exit_3_and_never_show_a_key(tmp_path: Path, sandbox: Sandbox) -> None:
    path = write(tmp_path, "ana@example.com,10.00,MXN,r-1,no\nbeto@example.com,5,MXN,r-2,no\n")
    result = invoke(["payouts", "send", str(path)], sandbox,
                    ECARTPAY_PRIVATE_KEY="priv_definitely_wrong")
    assert result.exit_code == 3, result.output
    assert "Stopped: fatal error: AuthenticationError" in result.stdout
    assert "priv_definitely_wrong" not in result.output
    assert sandbox.state.payouts() == []


def test_missing_keys_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECARTPAY_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("ECARTPAY_PRIVATE_KEY", raising=False)
    path = write(tmp_path, "ana@example.com,10.00,MXN,r-1,no\n")
    result = invoke(["payouts", "send", str(path), "--base-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "ECARTPAY_PUBLIC_KEY" in result.stderr


def test_a_journal_makes_a_second_run_skip_and_refuses_changes(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    journal = tmp_path / "run.db"
    path = write(tmp_path, "ana@example.com,10.00,MXN,r-1,no\nbeto@example.com,5,MXN,r-2,no\n")
    first = invoke(["payouts", "send", str(path), "--journal", str(journal)], sandbox)
    assert first.exit_code == 0, first.output
    again = invoke(["payouts", "send", str(path), "--journal", str(journal), "--expect-done"],
                   sandbox)
    assert again.exit_code == 0, again.output
    assert "already paid earlier: 2 rows, 15.00 MXN" in again.stdout
    assert len(sandbox.state.payouts()) == 2
    path.write_text(HEADER + "ana@example.com,99.00,MXN,r-1,no\nbeto@example.com,5,MXN,r-2,no\n",
                    encoding="utf-8")
    changed = invoke(["payouts", "send", str(path), "--journal", str(journal)], sandbox)
    assert changed.exit_code == 2
    assert "disagree with the journal" in changed.stderr
    assert "row 1: reference_id 'r-1'" in changed.stderr
    assert len(sandbox.state.payouts()) == 2


def test_list_get_and_confirm(sandbox: Sandbox) -> None:
    async def create() -> str:
        async with sandbox.client() as client:
            payout = await client.payouts.create(
                email="carla@example.com", reference_id="to-confirm", amount=Decimal("12.34"),
                currency="MXN", require_confirmation=True,
            )
        return payout.id

    payout_id = anyio.run(create)
    listed = invoke(["payouts", "list", "--status", "pending", "--json"], sandbox)
    assert listed.exit_code == 0, listed.output
    found = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [p["id"] for p in found] == [payout_id]
    assert '"amount":12.34' in listed.stdout  # exact decimal text, not a float's

    table = invoke(["payouts", "list", "--reference-id", "to-confirm"], sandbox)
    assert table.exit_code == 0
    assert "to-confirm" in table.stdout

    shown = invoke(["payouts", "get", payout_id], sandbox)
    assert shown.exit_code == 0
    assert "pending" in shown.stdout
    assert "12.34" in shown.stdout

    confirmed = invoke(["payouts", "confirm", payout_id, "--json"], sandbox)
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout)["status"] == "paid"

    missing = invoke(["payouts", "get", "no-such-payout"], sandbox)
    assert missing.exit_code == 1
    assert "error: 404" in missing.stderr


def test_confirm_refuses_a_bad_date(sandbox: Sandbox) -> None:
    result = invoke(["payouts", "confirm", "p1", "--available-at", "next tuesday"], sandbox)
    assert result.exit_code == 2
    assert "--available-at" in result.output


def test_the_module_runs_and_importing_the_sdk_stays_light() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "ecartpay_async", "payouts", "send", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "--journal" in help_text
    assert "--rate-limit" in help_text
    # (click and rich may be loaded by httpx itself when they are installed.)
    code = (
        "import sys, ecartpay_async; "
        "heavy = {'ecartpay_async.cli', 'ecartpay_async.batch.engine', 'sqlite3'} "
        "& set(sys.modules); "
        "print(sorted(heavy))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
