"""Reading payouts from CSV: exact amounts, forgiving headers, strict rows."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from ecartpay_async.batch import BatchValidationError, CsvSource
from ecartpay_async.batch.source import parse_bool
from ecartpay_async.errors import ValidationError


def write(tmp_path: Path, text: str, *, bom: bool = False, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_a_sheet_export_with_bom_odd_headers_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        " Name ,E-mail,AMOUNT, currency ,Reference ID,Require Confirmation\r\n"
        "Ana López,ana@example.com,1250.5,mxn,payroll-0001,yes\r\n"
        "\r\n"
        '"Beto, Jr.",beto@example.com,"0.10",USD,payroll-0002,0\r\n'
        "Carla,carla@example.com,1000,CLP,payroll-0003,\r\n",
        bom=True,
    )
    # "E-mail" normalizes to "e_mail", not "email": that column is missing.
    with pytest.raises(BatchValidationError, match="missing column email"):
        CsvSource(path).validate()
    path.write_bytes(path.read_bytes().replace(b"E-mail", b"Email"))
    source = CsvSource(path)
    summary = source.validate()
    assert summary.rows == len(source) == 3
    assert summary.totals == {"CLP": Decimal("1000"), "MXN": Decimal("1250.50"),
                              "USD": Decimal("0.10")}
    assert summary.require_confirmation == 1
    requests = list(source)
    assert [r.reference_id for r in requests] == ["payroll-0001", "payroll-0002", "payroll-0003"]
    assert requests[0].amount == Decimal("1250.50")
    assert str(requests[0].amount) == "1250.50"
    assert requests[0].currency == "MXN"
    assert requests[0].require_confirmation is True
    assert requests[1].require_confirmation is False
    assert requests[2].require_confirmation is False


def test_amounts_are_never_floats(tmp_path: Path) -> None:
    # 0.1 + 0.2 in binary floating point is 0.30000000000000004.
    rows = "".join(f"p{i}@example.com,0.1,MXN,r{i}\n" for i in range(3))
    path = write(tmp_path, "email,amount,currency,reference_id\n" + rows)
    assert CsvSource(path).validate().totals == {"MXN": Decimal("0.30")}
    assert all(type(r.amount) is Decimal for r in CsvSource(path))


def test_quoted_line_breaks_keep_line_numbers_honest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "email,amount,currency,reference_id,note\n"
        'a@example.com,1,MXN,r1,"two\nlines"\n'
        "b@example.com,-1,MXN,r2,x\n",
    )
    with pytest.raises(BatchValidationError) as info:
        CsvSource(path).validate()
    assert [(p.line, p.row, p.field) for p in info.value.problems] == [(4, 2, "amount")]


def test_a_file_changed_after_validation_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "email,amount,currency,reference_id\na@example.com,1,MXN,r1\n")
    source = CsvSource(path)
    source.validate()
    path.write_text("email,amount,currency,reference_id\na@example.com,1000,MXN,r1\n")
    os.utime(path, ns=(1, 1))
    with pytest.raises(BatchValidationError, match="changed after it was validated"):
        list(source)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BatchValidationError, match="cannot be read"):
        CsvSource(tmp_path / "nope.csv").validate()


def test_problems_beyond_the_cap_are_counted(tmp_path: Path) -> None:
    rows = "".join(f"p{i}@example.com,0,MXN,r{i}\n" for i in range(1200))
    path = write(tmp_path, "email,amount,currency,reference_id\n" + rows)
    with pytest.raises(BatchValidationError) as info:
        CsvSource(path).validate()
    assert len(info.value.problems) == 1000
    assert info.value.omitted == 200
    assert "1200 problems" in str(info.value)
    assert "... and 200 more" in str(info.value)


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("TRUE", True), ("1", True), ("yes", True), ("Sí", True),
    ("false", False), ("0", False), ("no", False), ("", False), (" N ", False),
])
def test_parse_bool(text: str, value: bool) -> None:
    assert parse_bool(text) is value


def test_parse_bool_refuses_the_rest() -> None:
    with pytest.raises(ValueError, match="maybe"):
        parse_bool("maybe")


def test_the_example_payroll_is_valid() -> None:
    path = Path(__file__).parent.parent.parent / "examples" / "payroll.csv"
    summary = CsvSource(path).validate()
    assert summary.rows >= 2000
    assert set(summary.totals) == {"MXN"}
    assert 0 < summary.require_confirmation < summary.rows // 10


def test_the_delimiter_is_found_from_the_header(tmp_path: Path) -> None:
    tab = write(tmp_path, "Email\tAmount\tCurrency\tReference ID\r\n"
                          "ana@example.com\t1.250,50\tBRL\tt-1\r\n", bom=True, name="t.csv")
    semicolon = write(tmp_path, "\n;;;\nemail;amount;currency;reference_id\n"
                                "ana@example.com;1.250,50;BRL;s-1\n", name="s.csv")
    for path in (tab, semicolon):
        [request] = list(CsvSource(path, decimal_separator=","))
        assert request.amount == Decimal("1250.50")
    # Given outright, it is used as given: this header has no ';' columns.
    with pytest.raises(BatchValidationError, match="missing columns"):
        CsvSource(tab, delimiter=";").validate()


def test_the_summary_has_each_currencys_range(tmp_path: Path) -> None:
    path = write(tmp_path, "email,amount,currency,reference_id\n"
                           "a@example.com,5,MXN,r-1\nb@example.com,5000,MXN,r-2\n"
                           "c@example.com,70,MXN,r-3\nd@example.com,9,USD,r-4\n")
    summary = CsvSource(path).validate()
    mxn = summary.currencies["MXN"]
    assert (mxn.rows, mxn.total, mxn.largest, mxn.smallest) == (
        3, Decimal("5075.00"), Decimal("5000.00"), Decimal("5.00"))
    assert summary.totals == {"MXN": Decimal("5075.00"), "USD": Decimal("9.00")}


@pytest.mark.parametrize(
    ("options", "field"),
    [({"decimal_separator": ";"}, "decimal_separator"), ({"delimiter": "ab"}, "delimiter"),
     ({"delimiter": '"'}, "delimiter"), ({"columns": {"amont": "monto"}}, "columns")],
)
def test_bad_format_options_are_refused_at_once(
    tmp_path: Path, options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        CsvSource(tmp_path / "p.csv", **options)  # type: ignore[arg-type]
    assert info.value.field == field
