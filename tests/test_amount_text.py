"""Amounts are read from their text, never guessed (issue 17, part 1).

A text amount with more fractional digits than its currency allows is refused even
when they are zeros, naming both readings; exponents, underscores, spaces, signs,
symbols and thousands separators are refused unless the number format is named. A
property test writes random amounts as spreadsheets do in es-MX, pt-BR, es-CO, es-AR
and es-CL and checks each is read to its exact value or refused, never misread.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecartpay_async import PayoutRequest
from ecartpay_async.batch import BatchValidationError, CsvSource
from ecartpay_async.errors import ValidationError
from ecartpay_async.money import (
    DECIMAL_SEPARATORS,
    MINOR_UNITS,
    DecimalSeparator,
    check_amount,
    read_amount,
    read_number,
)
from ecartpay_async.sandbox import Sandbox

# The cases: (text, currency, the decimal reading, the thousands reading).
SPREADSHEET_THOUSANDS = [
    ("1.250", "BRL", "1.25", "1250"),
    ("12.500", "COP", "12.50", "12500"),
    ("850.000", "ARS", "850.00", "850000"),
    ("1.000", "CLP", "1", "1000"),
]


@pytest.mark.parametrize(("text", "currency", "small", "large"), SPREADSHEET_THOUSANDS)
def test_trailing_zeros_past_the_minor_unit_are_refused_naming_both_readings(
    text: str, currency: str, small: str, large: str
) -> None:
    with pytest.raises(ValidationError) as info:
        PayoutRequest(email="ana@example.com", reference_id="r-1", amount=text,
                      currency=currency)
    message = str(info.value)
    assert info.value.field == "amount"
    assert f"is it {small} or {large}?" in message
    assert "decimal_separator" in message  # what settles it, the Python way
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1.23457E+11", "scientific notation"),
        ("1e3", "scientific notation"),
        ("1_000.00", "underscore"),
        ("1 000.00", "space inside"),
        ("1\u00a0000,00", "space inside"),
        ("+5", "sign other than a leading '-'"),
        ("5-", "sign other than a leading '-'"),
        ("$980.50", "'$' is not part of one"),
        ("980.50 MXN", "space inside"),
        ("R$980", "'R'"),
        ("1,250.50", "thousands separator"),
        ("1250,50", "decimal comma"),
        ("1.250.000", "thousands separator"),
        ("\u0661\u0662", "is not part of one"),  # Arabic-Indic digits Decimal() would read
        ("NaN", "finite"),
        ("5.", "not a decimal number"),
    ],
)
def test_text_that_is_not_a_plain_number_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        PayoutRequest(email="ana@example.com", reference_id="r-1", amount=text, currency="MXN")
    assert words in str(info.value)
    assert info.value.field == "amount"


def test_plain_text_amounts_still_read_exactly() -> None:
    request = PayoutRequest(email="ana@example.com", reference_id="r-1", amount=" 1250.5 ",
                            currency="MXN")
    assert request.amount == Decimal("1250.50")
    assert str(request.amount) == "1250.50"
    assert PayoutRequest(email="a@example.com", reference_id="r", amount="1000",
                         currency="CLP").amount == Decimal(1000)


def test_a_decimal_is_a_value_not_text() -> None:
    # Decimal("1.250") is the number 1.25 (a program's value, no separator to misread).
    assert check_amount(Decimal("1.250"), "BRL") == Decimal("1.25")
    with pytest.raises(ValidationError, match="too many decimals"):
        check_amount(Decimal("1.255"), "BRL")


def test_a_named_format_reads_thousands_in_groups_of_three() -> None:
    assert read_amount("1.250,50", "BRL", decimal_separator=",") == Decimal("1250.50")
    assert read_amount("1.250", "BRL", decimal_separator=",") == Decimal("1250")
    assert read_amount("1250,5", "BRL", decimal_separator=",") == Decimal("1250.50")
    assert read_amount("1.000.000", "CLP", decimal_separator=",") == Decimal("1000000")
    assert read_amount("1,250.50", "MXN", decimal_separator=".") == Decimal("1250.50")
    for text in ("1.25,00", "12.50,00", "1.2500", "0.250,00", "1,250.50"):
        with pytest.raises(ValidationError, match="groups of three digits"):
            read_amount(text, "BRL", decimal_separator=",")
    with pytest.raises(ValidationError, match="groups of three digits"):
        read_amount("1.250,50", "MXN", decimal_separator=".")


def test_read_number_keeps_every_digit_written() -> None:
    assert read_number("1.250").as_tuple().exponent == -3
    assert read_number("-3") == Decimal(-3)


@pytest.mark.anyio
async def test_str_amounts_in_a_batch_refuse_the_whole_batch_before_sending() -> None:
    rows = [
        {"email": "ana@example.com", "reference_id": "ok-1", "amount": "980.50",
         "currency": "BRL"},
        {"email": "beto@example.com", "reference_id": "bad-1", "amount": "1.250",
         "currency": "BRL"},
    ]
    async with Sandbox() as sandbox, sandbox.client() as client:
        with pytest.raises(BatchValidationError) as info:
            await client.payouts.send_batch(rows)
        with pytest.raises(ValidationError, match=r"is it 1\.25 or 1250\?"):
            await client.payouts.create(email="ana@example.com", reference_id="one",
                                        amount="1.250", currency="BRL")
        assert sandbox.state.payouts() == []
    assert "row 2: amount: '1.250' has too many decimals (3)" in str(info.value)


# -- how spreadsheets write amounts in five Latin American locales -------------------------

#: locale -> (thousands separator, decimal separator), as Excel and Sheets write them.
LOCALES: dict[str, tuple[str, DecimalSeparator]] = {
    "es-MX": (",", "."),
    "pt-BR": (".", ","),
    "es-CO": (".", ","),
    "es-AR": (".", ","),
    "es-CL": (".", ","),
}


def spreadsheet_text(amount: Decimal, places: int, locale: str, grouped: bool,
                     fixed: bool) -> str:
    """``amount`` as a spreadsheet cell shows it: with or without thousands separators,
    with the currency's decimals (a number format) or trailing zeros dropped (General)."""
    thousands, decimal = LOCALES[locale]
    whole, _, fraction = f"{amount:f}".partition(".")
    fraction = fraction.ljust(places, "0") if fixed else fraction.rstrip("0")
    if grouped:
        whole = f"{int(whole):,}".replace(",", thousands)
    return f"{whole}{decimal}{fraction}" if fraction else whole


@st.composite
def spreadsheet_amounts(draw: st.DrawFn) -> tuple[str, Decimal, str, str]:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    places = MINOR_UNITS[currency]
    # Up to 10^12 in minor units; whole amounts often, for those are the texts a
    # thousands separator makes look like decimals (1.250 for 1250 in General format).
    minor = draw(st.one_of(
        st.integers(1, 10**6), st.integers(1, 10**12),
        st.integers(1, 10**7).map(lambda whole: whole * 10**places),
    ))
    amount = Decimal(minor).scaleb(-places)
    locale = draw(st.sampled_from(sorted(LOCALES)))
    text = spreadsheet_text(amount, places, locale, draw(st.booleans()), draw(st.booleans()))
    return text, amount, currency, locale


@settings(max_examples=300, deadline=None)
@given(spreadsheet_amounts())
def test_a_spreadsheet_amount_is_read_exactly_or_refused_never_misread(
    case: tuple[str, Decimal, str, str],
) -> None:
    text, amount, currency, locale = case
    _, decimal = LOCALES[locale]
    assert read_amount(text, currency, decimal_separator=decimal) == amount
    for separator in (None, *DECIMAL_SEPARATORS):  # without the option, or the wrong one
        try:
            read = read_amount(text, currency, decimal_separator=separator)
        except ValidationError:
            continue
        assert read == amount, (text, currency, separator, read)


@settings(max_examples=25, deadline=None)
@given(spreadsheet_amounts(), st.sampled_from([None, *DECIMAL_SEPARATORS]))
def test_a_csv_row_is_read_exactly_or_refused_never_misread(
    case: tuple[str, Decimal, str, str], separator: DecimalSeparator | None
) -> None:
    text, amount, currency, locale = case
    _, decimal = LOCALES[locale]
    delimiter = "," if decimal == "." else ";"  # as Excel saves CSV in that locale
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "payroll.csv"
        path.write_text(
            delimiter.join(["email", "amount", "currency", "reference_id"]) + "\n"
            + delimiter.join(["ana@example.com", f'"{text}"', currency, "r-1"]) + "\n",
            encoding="utf-8",
        )
        source = CsvSource(path, decimal_separator=separator)
        if separator == decimal:  # the right format always reads it, exactly
            assert [r.amount for r in source] == [amount]
            return
        try:
            read = [r.amount for r in source]
        except BatchValidationError:
            return  # refused: fine
    assert read == [amount]
