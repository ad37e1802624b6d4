"""The malformed-CSV corpus: every file is refused whole, clearly, with nothing sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecartpay_async.batch import BatchValidationError, CsvSource
from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

CORPUS = Path(__file__).parent.parent / "data" / "bad_csv"

# file -> (line, field, words the message must hold)
EXPECTED: dict[str, tuple[int, str, str]] = {
    "01_empty.csv": (1, "file", "is empty"),
    "02_only_blank_lines.csv": (1, "file", "is empty"),
    "03_header_only.csv": (1, "file", "has no payout rows"),
    "04_missing_amount_column.csv": (1, "header", "missing column amount"),
    "05_missing_two_columns.csv": (1, "header", "missing columns currency, reference_id"),
    "06_pipe_separated.csv": (1, "header", "not seem to be comma-separated: give its --delimiter"),
    "07_duplicate_column.csv": (1, "header", "'amount' appears twice"),
    "08_bad_email.csv": (3, "email", "not a valid email address"),
    "09_empty_email.csv": (3, "email", "is required"),
    "10_amount_zero.csv": (3, "amount", "must be greater than 0"),
    "11_amount_negative.csv": (3, "amount", "must be greater than 0"),
    "12_amount_nan.csv": (3, "amount", "must be a finite number"),
    "13_amount_infinity.csv": (3, "amount", "must be a finite number"),
    "14_amount_too_many_decimals.csv": (3, "amount", "MXN allows 2 decimals"),
    "15_clp_with_decimals.csv": (3, "amount", "CLP allows no decimals"),
    "16_amount_thousands_comma_quoted.csv": (3, "amount", "has a thousands separator"),
    "17_amount_currency_symbol.csv": (3, "amount", "'$' is not part of one"),
    "18_amount_empty.csv": (3, "amount", "is required"),
    "19_unknown_currency.csv": (3, "currency", "unknown currency 'PESOS'"),
    "20_empty_currency.csv": (3, "currency", "is required"),
    "21_duplicate_reference_id.csv": (4, "reference_id", "first seen on line 2"),
    "22_empty_reference_id.csv": (3, "reference_id", "is required"),
    "23_bad_require_confirmation.csv": (3, "require_confirmation", "'maybe' is not true/false"),
    "24_too_few_fields.csv": (3, "row", "has 2 fields but the header has 4"),
    "25_unquoted_comma_in_amount.csv": (3, "row", "unquoted comma"),
    "26_unterminated_quote.csv": (3, "file", "is not valid CSV"),
    "27_latin1_encoded.csv": (2, "file", "is not UTF-8 text"),
    "28_reference_id_too_long.csv": (3, "reference_id", "at most 255 characters"),
    "29_many_bad_rows.csv": (6, "amount", "must be greater than 0, got -5"),
    "30_amount_with_spaces_inside.csv": (3, "amount", "has a space inside"),
    "31_email_two_at_signs.csv": (3, "email", "not a valid email address"),
    "32_nul_byte.csv": (2, "currency", "control character"),
    "33_utf16.csv": (1, "file", "is UTF-16"),
    "34_binary_garbage.csv": (1, "file", "is not a CSV text file"),
    # Amounts as spreadsheets write them in pt-BR, es-CO, es-AR, es-CL: never guessed.
    "35_semicolon_decimal_comma.csv": (3, "amount", "format: --decimal-separator , for"),
    "36_brl_thousands_dot.csv": (3, "amount", "is it 1.25 or 1250? name the number format"),
    "37_amount_excel_exponent.csv": (3, "amount", "'1.23457E+11' is in scientific notation"),
    "38_amount_underscore.csv": (3, "amount", "'1_000.00' has an underscore"),
    "39_spanish_headers.csv": (1, "header", "map your headers with --columns email=<your header>"),
}


def test_the_corpus_is_complete() -> None:
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED)
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_source_names_line_field_and_reason(name: str) -> None:
    line, field, words = EXPECTED[name]
    with pytest.raises(BatchValidationError) as info:
        CsvSource(CORPUS / name).validate()
    problems = info.value.problems
    assert any(p.line == line and p.field == field and words in p.reason for p in problems), (
        problems
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_command_exits_2_and_sends_nothing(name: str, sandbox: Sandbox) -> None:
    line, field, words = EXPECTED[name]
    env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key, "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
    result = CliRunner().invoke(
        main, ["payouts", "send", str(CORPUS / name), "--base-url", sandbox.base_url], env=env
    )
    assert result.exit_code == 2, result.output
    assert "nothing was sent" in result.stderr
    assert f"line {line}: {field}: " in result.stderr
    assert words in result.stderr
    assert sandbox.private_key not in result.output
    assert sandbox.state.payouts() == []


def test_many_bad_rows_are_all_listed() -> None:
    with pytest.raises(BatchValidationError) as info:
        CsvSource(CORPUS / "29_many_bad_rows.csv").validate()
    assert [p.line for p in info.value.problems] == [2, 3, 4, 5, 6]
    assert str(info.value).count("\n") == 5
