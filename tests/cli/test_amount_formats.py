"""``payouts send`` with amounts as Latin American spreadsheets write them (issue 17).

Refused with one clear line and nothing sent (also under --dry-run) unless the operator
names the format; then paid at exactly the intended amount. Headers can be mapped, the
delimiter is found or given, and the dry run shows each currency's count, total,
largest and smallest amount.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

SPANISH_COLUMNS = "email=correo,amount=monto,currency=moneda,reference_id=referencia"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def send(args: list[str], sandbox: Sandbox | None = None) -> Result:
    env = {}
    if sandbox is not None:
        env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key,
               "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
        args = [*args, "--base-url", sandbox.base_url]
    return CliRunner().invoke(main, ["payouts", "send", *args], env=env)


def write(tmp_path: Path, text: str, name: str = "payroll.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("amount", "currency", "readings"),
    [
        ("1.250", "BRL", "is it 1.25 or 1250?"),
        ("12.500", "COP", "is it 12.50 or 12500?"),
        ("850.000", "ARS", "is it 850.00 or 850000?"),
        ("1.000", "CLP", "is it 1 or 1000?"),
        ("1.23457E+11", "MXN", "'1.23457E+11' is in scientific notation"),
        ("1e3", "MXN", "'1e3' is in scientific notation"),
        ("1_000.00", "MXN", "'1_000.00' has an underscore"),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_an_amount_the_text_leaves_open_is_refused_and_nothing_is_sent(
    tmp_path: Path, sandbox: Sandbox, amount: str, currency: str, readings: str, dry_run: bool
) -> None:
    path = write(tmp_path, "email,amount,currency,reference_id\n"
                           f"ana@example.com,10,{currency},ok-{currency}-{dry_run}\n"
                           f"beto@example.com,{amount},{currency},amt-{amount}-{dry_run}\n")
    result = send([str(path), *(["--dry-run"] if dry_run else [])], sandbox)
    assert result.exit_code == 2, result.output
    assert "nothing was sent" in result.stderr
    line = next(line for line in result.stderr.splitlines() if "line 3: amount:" in line)
    assert readings in line
    if "is it" in readings:  # both readings, and the option that settles it, on one line
        assert "--decimal-separator ," in line
    assert "valid rows" not in result.stdout
    assert sandbox.state.payouts() == []


PT_BR = (
    "email;amount;currency;reference_id\n"
    "ana.souza@example.com;1.250,50;BRL;folha-0001\n"
    "beto.lima@example.com;980,5;BRL;folha-0002\n"
    "carla.rocha@example.com;12.345.678,90;BRL;folha-0003\n"
)


def test_a_pt_br_file_with_the_decimal_comma_named_pays_the_exact_amounts(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, PT_BR)
    report = tmp_path / "report.csv"
    result = send([str(path), "--decimal-separator", ",", "--sandbox", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "sandbox: 3 payouts recorded for 3 reference_ids" in result.stdout
    assert "12,347,909.90" in result.stdout  # 1250.50 + 980.50 + 12345678.90
    with report.open(encoding="utf-8") as handle:
        paid = {row["reference_id"]: row["amount"] for row in csv.DictReader(handle)}
    assert paid == {"folha-0001": "1250.50", "folha-0002": "980.50",
                    "folha-0003": "12345678.90"}


def test_the_sandbox_records_exactly_1250_50(tmp_path: Path) -> None:
    path = write(tmp_path, PT_BR)
    with Sandbox() as sandbox:
        result = send([str(path), "--decimal-separator", ",", "--delimiter", ";"], sandbox)
        assert result.exit_code == 0, result.output
        recorded = {p.reference_id: p.amount for p in sandbox.state.payouts()}
    assert recorded == {"folha-0001": Decimal("1250.50"), "folha-0002": Decimal("980.50"),
                        "folha-0003": Decimal("12345678.90")}


def test_the_same_file_without_the_option_is_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    result = send([str(write(tmp_path, PT_BR))], sandbox)
    assert result.exit_code == 2, result.output
    assert ("line 2: amount: '1.250,50' has a thousands separator or a decimal comma; "
            "name the number format: --decimal-separator ,") in result.stderr
    assert sandbox.state.payouts() == []


def test_decimal_separator_checks_groups_of_three(tmp_path: Path, sandbox: Sandbox) -> None:
    path = write(tmp_path, "email;amount;currency;reference_id\n"
                           "ana@example.com;1.25,00;BRL;groups-1\n")
    result = send([str(path), "--decimal-separator", ","], sandbox)
    assert result.exit_code == 2, result.output
    assert "'1.25,00' is not a number with ',' as the decimal separator" in result.stderr
    assert sandbox.state.payouts() == []


def test_decimal_point_named_reads_comma_thousands(tmp_path: Path) -> None:
    path = write(tmp_path, 'email,amount,currency,reference_id\n'
                           'ana@example.com,"1,250.50",MXN,mx-0001\n')
    result = send([str(path), "--decimal-separator", ".", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1,250.50" in result.stdout


def test_mapped_columns_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "correo;monto;moneda;referencia\n"
                           "ana@example.com;1.250,50;COP;nomina-0001\n"
                           "beto@example.com;2.000;CLP;nomina-0002\n")
    result = send([str(path), "--columns", SPANISH_COLUMNS, "--decimal-separator", ",",
                   "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "sandbox: 2 payouts recorded" in result.stdout
    assert "1,250.50" in result.stdout
    assert "2,000" in result.stdout


def test_an_unknown_header_shows_the_mapping_option(tmp_path: Path) -> None:
    path = write(tmp_path, "correo,monto,moneda,referencia\nana@example.com,10,MXN,r-1\n")
    result = send([str(path), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert ("line 1: header: missing columns email, amount, currency, reference_id "
            "(found 'correo', 'monto', 'moneda', 'referencia'); map your headers with "
            "--columns email=<your header>") in result.stderr
    partly = send([str(path), "--dry-run", "--columns", "email=correo,amount=importe"])
    assert partly.exit_code == 2
    assert "missing columns amount (as 'importe'), currency, reference_id" in partly.stderr


@pytest.mark.parametrize(
    ("value", "words"),
    [("amount", "is not COLUMN=HEADER"), ("monto=amount", "'monto' is not a column"),
     ("amount=a,amount=b", "mapped twice"), ("email=monto,amount=monto", "two columns"),
     ("email=amount", "header 'amount' would be two columns")],
)
def test_a_bad_mapping_is_a_usage_error(tmp_path: Path, value: str, words: str) -> None:
    path = write(tmp_path, "email,amount,currency,reference_id\na@example.com,1,MXN,r\n")
    result = send([str(path), "--dry-run", "--columns", value])
    assert result.exit_code == 2
    assert words in result.output


def test_dry_run_shows_count_total_largest_and_smallest(tmp_path: Path) -> None:
    path = write(tmp_path, "email,amount,currency,reference_id\n"
                           "a@example.com,1250.50,MXN,r-1\n"
                           "b@example.com,980,MXN,r-2\n"
                           "c@example.com,1250000,MXN,r-3\n"
                           "d@example.com,1000,CLP,r-4\n")
    result = send([str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "currency" in line and "largest" in line)
    assert header.replace("┃", " ").split() == [
        "currency", "rows", "total", "largest", "smallest"]
    mxn = next(line for line in lines if "MXN" in line).replace("│", " ").split()
    assert mxn == ["MXN", "3", "1,252,230.50", "1,250,000.00", "980.00"]
    clp = next(line for line in lines if "CLP" in line).replace("│", " ").split()
    assert clp == ["CLP", "1", "1,000", "1,000", "1,000"]


def test_reconcile_reads_the_file_the_way_send_did(tmp_path: Path) -> None:
    path = write(tmp_path, "correo;monto;moneda;referencia\n"
                           "ana@example.com;1.250,50;BRL;rec-0001\n")
    options = ["--decimal-separator", ",", "--columns", SPANISH_COLUMNS]
    with Sandbox() as sandbox:
        assert send([str(path), *options], sandbox).exit_code == 0
        env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key,
               "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
        result = CliRunner().invoke(
            main, ["payouts", "reconcile", str(path), *options, "--base-url", sandbox.base_url],
            env=env,
        )
        unnamed = CliRunner().invoke(
            main, ["payouts", "reconcile", str(path), "--base-url", sandbox.base_url], env=env
        )
    assert result.exit_code == 0, result.output
    assert "paid" in result.stdout
    assert unnamed.exit_code == 2
    assert "map your headers with --columns" in unnamed.stderr
