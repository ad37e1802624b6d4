"""The command line's doors: journals named by any DSN, passwords never echoed, reports
safe in spreadsheets and stopped in one line when they cannot be written, options
checked where they are given, labels shown as text."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ecartpay_async.batch.dsn import hide_password, journal_kind, mask_dsn
from ecartpay_async.cli import main
from ecartpay_async.cli.export import ReportWriter, spreadsheet_safe

HEADER = "email,amount,currency,reference_id\n"
ROWS = "ana@example.com,10.00,MXN,r-1\nbeto@example.com,20.50,MXN,r-2\n"
BROKEN_DSN = "postgresql://u:S3cret@[::1/test"
KEYWORD_DSN = "host=127.0.0.1 port=1 dbname=x user=u password=S3cret connect_timeout=2"


def run(args: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, args, env=env)


def rows_file(tmp_path: Path, body: str = ROWS) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def one_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[-1]


# -- what a --journal names, and its password ------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:S3cret@db:5432/pay", "postgresql://u:***@db:5432/pay"),
        (BROKEN_DSN, "postgresql://u:***@[::1/test"),
        ("postgres://u:S3c@ret/x@db/pay", "postgres://u:***@db/pay"),
        ("postgresql://db/pay?password=S3cret&sslmode=require",
         "postgresql://db/pay?password=***&sslmode=require"),
        ("host=db password=S3cret dbname=pay", "host=db password=*** dbname=pay"),
        ("host=db password='S3 cret' dbname=pay", "host=db password=*** dbname=pay"),
        ("postgresql://u@db/pay", "postgresql://u@db/pay"),
        ("payroll.db", "payroll.db"),
    ],
)
def test_a_dsn_is_shown_with_its_password_masked(dsn: str, shown: str) -> None:
    assert mask_dsn(dsn) == shown
    assert "S3" not in mask_dsn(dsn)


def test_an_error_quoting_a_dsn_is_masked() -> None:
    message = f'missing "]" in URI: "{BROKEN_DSN}"; password S3cret; S3cret'
    assert "S3cret" not in hide_password(message, BROKEN_DSN)
    assert "postgresql://u:***@[::1/test" in hide_password(message, BROKEN_DSN)


@pytest.mark.parametrize(
    ("journal", "kind"),
    [
        ("postgresql://u@db/pay", "postgresql"),
        ("POSTGRES://db/pay", "postgresql"),
        (KEYWORD_DSN, "postgresql"),
        ("dbname=pay", "postgresql"),
        ("gssencmode=disable password=S3cret", "postgresql"),
        ("payroll.db", "sqlite"),
        ("runs/payroll-2026.db", "sqlite"),
        (Path("x.db"), "sqlite"),
    ],
)
def test_what_kind_of_journal_a_string_names(journal: Any, kind: str) -> None:
    assert journal_kind(journal) == kind


def test_another_url_is_refused_masked() -> None:
    with pytest.raises(ValueError, match=r"mysql://u:\*\*\*@db/pay is not a journal") as caught:
        journal_kind("mysql://u:S3cret@db/pay")
    assert "S3cret" not in str(caught.value)


@pytest.mark.parametrize("command", ["send", "status"])
def test_a_mistyped_dsn_never_prints_its_password(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = (["payouts", "send", str(rows_file(tmp_path)), "--sandbox", "--journal", BROKEN_DSN]
            if command == "send" else ["payouts", "status", "--journal", BROKEN_DSN])
    result = run(args)
    assert result.exit_code in (1, 2)
    assert "S3cret" not in result.output
    assert "postgresql://u:***@[::1/test" in result.output
    assert "sandbox: 0 payouts" in result.output or command == "status"


@pytest.mark.parametrize("command", ["send", "status", "reconcile"])
def test_a_keyword_dsn_is_read_as_postgresql_never_as_a_file(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = rows_file(tmp_path)
    args = {
        "send": ["payouts", "send", str(rows), "--sandbox", "--journal", KEYWORD_DSN],
        "status": ["payouts", "status", "--journal", KEYWORD_DSN],
        "reconcile": ["payouts", "reconcile", str(rows), "--journal", KEYWORD_DSN,
                      "--base-url", "http://127.0.0.1:1"],
    }[command]
    result = run(args, ECARTPAY_PUBLIC_KEY="pub_x", ECARTPAY_PRIVATE_KEY="priv_x")
    assert result.exit_code == 2 if command != "status" else result.exit_code in (1, 2)
    assert "cannot reach the journal postgresql://u@127.0.0.1:1/x" in result.output
    assert "S3cret" not in result.output
    assert sorted(os.listdir(tmp_path)) == ["rows.csv"]  # no SQLite file named after it


def test_an_empty_batch_label_is_refused(tmp_path: Path) -> None:
    for args in (["payouts", "send", str(rows_file(tmp_path)), "--sandbox", "--batch", ""],
                 ["payouts", "status", "--journal", "postgresql://db/x", "--batch", " "]):
        result = run(args)
        assert result.exit_code == 2
        assert one_line(result) == "error: --batch: must not be empty"
        assert len(result.output.strip().splitlines()) == 1


def test_status_reads_a_sqlite_journal_and_points_to_reconcile(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    sent = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox",
                "--journal", str(journal)])
    assert sent.exit_code == 0, sent.output
    result = run(["payouts", "status", "--journal", str(journal)])
    assert result.exit_code == 0, result.output
    assert f"journal {journal}: 2 rows" in result.output
    assert "paid" in result.output
    assert "payouts reconcile" in result.output
    missing = run(["payouts", "status", "--journal", str(tmp_path / "none.db")])
    assert missing.exit_code == 2
    assert one_line(missing) == f"error: no journal at {tmp_path / 'none.db'}"


# -- option values -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc"])
def test_a_rate_limit_must_be_positive_and_finite(value: str, tmp_path: Path) -> None:
    result = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox",
                  "--rate-limit", value])
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: --rate-limit: must be a positive, finite number, got {value!r}"
    )
    assert len(result.output.strip().splitlines()) == 1


# -- reports -------------------------------------------------------------------------


INJECTION_ROWS = (
    '-ana@example.com,10.00,MXN,"=HYPERLINK(""http://evil.example"",""open"")"\n'
    "+beto@example.com,20.50,MXN,@SUM(1)\n"
    "carla@example.com,5.00,MXN,-r-3\n"
)


def test_csv_reports_neutralise_formulas_and_json_reports_keep_the_raw_text(
    tmp_path: Path,
) -> None:
    rows = rows_file(tmp_path, INJECTION_ROWS)
    for name in ("report.csv", "report.jsonl"):
        result = run(["payouts", "send", str(rows), "--sandbox",
                      "--report", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as handle:
        cells = list(csv.DictReader(handle))
    assert [c["reference_id"] for c in cells] == [
        "'=HYPERLINK(\"http://evil.example\",\"open\")", "'@SUM(1)", "'-r-3"
    ]
    assert [c["email"] for c in cells] == [
        "'-ana@example.com", "'+beto@example.com", "carla@example.com"
    ]
    assert [c["amount"] for c in cells] == ["10.00", "20.50", "5.00"]
    lines = [json.loads(line) for line in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert [line["reference_id"] for line in lines] == [
        "=HYPERLINK(\"http://evil.example\",\"open\")", "@SUM(1)", "-r-3"
    ]
    assert lines[0]["email"] == "-ana@example.com"
    assert lines[0]["amount"] == "10.00"


def test_negative_amounts_are_numbers_not_formulas(tmp_path: Path) -> None:
    assert spreadsheet_safe(Decimal("-5.00")) == Decimal("-5.00")
    assert spreadsheet_safe("-5.00") == "'-5.00"  # text: a label or a message
    assert spreadsheet_safe("\rcmd") == "'\rcmd"
    assert spreadsheet_safe(3) == 3

    def record(item: Any) -> dict[str, Any]:
        return {"amount": Decimal("-5.00"), "note": "-5.00"}

    path = tmp_path / "r.csv"
    with ReportWriter(path, fields=("amount", "note"), record=record) as writer:
        writer.write(None)
    assert path.read_text().splitlines() == ["amount,note", "-5.00,'-5.00"]


def test_a_report_on_a_full_disk_stops_before_the_first_payout(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    result = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox",
                  "--report", "/dev/full"])
    assert result.exit_code == 2
    assert "--report: cannot write /dev/full: No space left on device" in result.output
    assert "sandbox: 0 payouts recorded" in result.output
    assert "Traceback" not in result.output


def test_a_report_that_fails_mid_run_keeps_the_failure_instead_of_raising(
    tmp_path: Path,
) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    writer = ReportWriter(tmp_path / "r.jsonl", fields=("a",), record=lambda item: {"a": item})
    with writer:
        writer._file = Full()
        writer.write(1)
        writer.write(2)  # nothing more is tried
    expected = f"--report: cannot write {tmp_path / 'r.jsonl'}: No space left on device"
    assert writer.problem == expected


def test_payouts_list_shows_markup_in_a_reference_id_as_text(tmp_path: Path) -> None:
    from ecartpay_async.sandbox import Sandbox

    rows = rows_file(tmp_path, "ana@example.com,10.00,MXN,[blink]r-1[/blink]\n")
    with Sandbox() as sb:
        keys = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        sent = run(["payouts", "send", str(rows), "--base-url", sb.base_url], **keys)
        assert sent.exit_code == 0, sent.output
        listed = run(["payouts", "list", "--base-url", sb.base_url], **keys)
    assert listed.exit_code == 0, listed.output
    assert "[blink]r-1[/blink]" in listed.output


@pytest.mark.parametrize("command", ["send", "reconcile", "confirm"])
def test_a_report_path_that_is_a_directory_is_one_line_and_nothing_is_done(
    command: str, tmp_path: Path
) -> None:
    from ecartpay_async.sandbox import Sandbox

    rows = rows_file(tmp_path)
    folder = tmp_path / "reports"
    folder.mkdir()
    with Sandbox() as sb:
        keys = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        args = {
            "send": ["payouts", "send", str(rows)],
            "reconcile": ["payouts", "reconcile", str(rows)],
            "confirm": ["payouts", "confirm", "--from", str(rows)],
        }[command]
        result = run([*args, "--base-url", sb.base_url, "--report", str(folder)], **keys)
        assert sb.state.payouts() == []
    assert result.exit_code == 2
    assert one_line(result) == f"error: --report: cannot write {folder}: Is a directory"
