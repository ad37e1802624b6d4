"""An operator's day: what the command line warns about and how it words things."""

from __future__ import annotations

from decimal import Decimal
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


ONE_ROW = HEADER + "ana@example.com,985.50,MXN,one-1\n"


def one_row(tmp_path: Path, body: str = ONE_ROW) -> Path:
    path = tmp_path / "one.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_configuration_errors_speak_of_options_and_variables_not_sdk_arguments(
    tmp_path: Path,
) -> None:
    bad_url = run(["payouts", "list", "--base-url", "ftp://x"],
                  ECARTPAY_PUBLIC_KEY="pk", ECARTPAY_PRIVATE_KEY="sk")
    assert bad_url.exit_code == 2
    assert bad_url.stderr == ("error: --base-url (or ECARTPAY_BASE_URL) must be an http(s) "
                              "origin such as http://127.0.0.1:8000, got 'ftp://x'\n")
    dry = run(["payouts", "send", str(one_row(tmp_path)), "--dry-run"],
              ECARTPAY_PUBLIC_KEY="", ECARTPAY_PRIVATE_KEY="")
    assert dry.exit_code == 0, dry.output
    assert "public_key" not in dry.output
    assert "balance: not available (no Ecart Pay keys: set the environment variables " \
           "ECARTPAY_PUBLIC_KEY and ECARTPAY_PRIVATE_KEY)" in dry.stdout


def test_a_conflict_names_amounts_as_people_write_them() -> None:
    from decimal import Decimal

    from ecartpay_async.errors import IdempotencyConflictError

    error = IdempotencyConflictError(
        "nov-1", [("amount", Decimal("985.50"), Decimal("980.00")),
                  ("email", "ana@example.com", "beto@example.com")])
    assert "amount: requested 985.50, found 980.00" in error.message
    assert "email: requested 'ana@example.com', found 'beto@example.com'" in error.message
    assert "Decimal(" not in error.message


def test_counts_of_one_are_singular(tmp_path: Path) -> None:
    held = one_row(tmp_path, HEADER.replace("\n", ",require_confirmation\n")
                   + "ana@example.com,985.50,MXN,one-1,yes\n")
    dry = run(["payouts", "send", str(held), "--dry-run", "--sandbox"])
    assert f"{held}: 1 valid row (dry run, nothing sent)" in dry.stdout
    assert "1 row requires confirmation" in dry.stdout
    sent = run(["payouts", "send", str(one_row(tmp_path)), "--sandbox"])
    assert sent.exit_code == 0, sent.output
    assert "; 1 attempt (0 retries), 0 recovered" in sent.stdout
    assert "sandbox: 1 payout recorded for 1 reference_id" in sent.stdout


def test_every_refusal_starts_with_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,amount\nx,1\n", encoding="utf-8")
    refusals = [
        run(["payouts", "send", str(bad), "--sandbox"]),
        run(["payouts", "send"]),  # click's own usage error
        run(["payouts", "confirm", "--from", str(bad)], ECARTPAY_PUBLIC_KEY="pk",
            ECARTPAY_PRIVATE_KEY="sk"),
        run(["payouts", "reconcile", str(bad)], ECARTPAY_PUBLIC_KEY="pk",
            ECARTPAY_PRIVATE_KEY="sk"),
        run(["payouts", "send", str(one_row(tmp_path)), "--sandbox",
             "--report", str(tmp_path / "no" / "such" / "dir.csv")]),
        run(["payouts", "send", str(one_row(tmp_path)), "--sandbox",
             "--sandbox-faults", "nope=1"]),
    ]
    for result in refusals:
        assert result.exit_code == 2, result.output
        said = [line for line in result.stderr.splitlines()
                if line and not line.startswith(("Usage:", "Try ", "  ", "Running against"))]
        assert said[0].startswith("error: "), result.stderr
        assert "Error:" not in result.stderr


def test_the_totals_row_of_a_confirmation_carries_its_amounts(tmp_path: Path) -> None:
    from rich.console import Console

    from ecartpay_async.cli.summary import print_status_table

    console = Console(width=100, record=True)
    print_status_table(console, "Confirmations",
                       {"confirmed": 2, "already_paid": 1},
                       {"confirmed": {"MXN": Decimal("30.50")},
                        "already_paid": {"MXN": Decimal("5"), "BRL": Decimal("7.25")}}, {})
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in console.export_text().splitlines() if line.startswith("│")}
    assert rows["total"] == ["3", "7.25", "35.50"]


def test_the_progress_bar_keeps_done_and_total_at_80_columns() -> None:
    import io
    import re

    from rich.console import Console

    from ecartpay_async._pause import PauseStats
    from ecartpay_async.batch.outcome import Outcome, OutcomeStatus
    from ecartpay_async.cli.display import LiveProgress
    from ecartpay_async.models.payouts import PayoutRequest

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    request = PayoutRequest(email="ana@example.com", reference_id="r", amount=Decimal("1"),
                            currency="MXN")
    paused = PauseStats(pauses=3, paused_seconds=4.2, remaining=1.0)
    with LiveProgress(console, 123_456, pauses=lambda: paused) as progress:
        for row in range(1234):
            status = OutcomeStatus.FAILED if row % 3 == 0 else OutcomeStatus.PAID
            progress.add(Outcome(row, status, request))
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "1234/123456" in shown
    assert all(len(line) <= 80 for line in shown.splitlines())


def test_json_logs_keep_stderr_pure_json_lines(tmp_path: Path) -> None:
    import json

    bad = tmp_path / "bad.csv"
    bad.write_text("email,amount\nx,1\n", encoding="utf-8")
    for args in (["payouts", "send", str(one_row(tmp_path)), "--sandbox"],
                 ["payouts", "send", str(bad), "--sandbox"]):
        result = run([*args, "--log-format", "json"])
        records = [json.loads(line) for line in result.stderr.splitlines()]
        assert records, result.output
        assert all(isinstance(r, dict) and r["run_id"] == records[0]["run_id"] for r in records)
    assert records[0]["event"] == "message"
    assert records[0]["message"].startswith("error: 1 problem in")


def test_a_group_without_a_command_still_shows_its_help() -> None:
    result = run(["payouts"])
    assert "Commands:" in result.output
    assert "forget" in result.output
    assert "error:" not in result.output
