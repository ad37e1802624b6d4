"""An operator's day: what the command line warns about and how it words things."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from ecartpay_async.cli import main

HEADER = "email,amount,currency,reference_id\n"


def run(args: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, args, env=env)


def test_the_dry_run_warns_of_one_recipient_and_amount_under_two_reference_ids(
    tmp_path: Path,
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER
                    + "ana@example.com,985.50,MXN,nov-0001\n"
                    + "beto@example.com,985.50,MXN,nov-0002\n"
                    + "Ana@Example.com,985.5,MXN,nov-0003\n"  # the first row, copied
                    + "ana@example.com,985.50,BRL,nov-0004\n",  # another currency: fine
                    encoding="utf-8")
    result = run(["payouts", "send", str(rows), "--dry-run", "--sandbox"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: ana@example.com gets 985.50 MXN under 2 reference_ids (nov-0001, nov-0003): "
        "each would be paid; a row copied twice?"
    ]


def test_the_dry_run_is_quiet_when_every_payment_differs(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "ana@example.com,10.00,MXN,a\nana@example.com,11.00,MXN,b\n",
                    encoding="utf-8")
    result = run(["payouts", "send", str(rows), "--dry-run", "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output
