"""Payout rows from a CSV file: read exactly, checked whole before anything is sent.

Columns ``email, amount, currency, reference_id`` and optionally
``require_confirmation`` (true/false, 1/0, yes/no; empty means false). Header names
ignore case, surrounding spaces, and spaces or dashes inside (``Reference ID`` works);
other headers can be mapped (``columns={"amount": "monto"}``, the command line's
``--columns amount=monto``); other columns are ignored. The file is UTF-8, with or
without a byte-order mark. The delimiter is ``,``, ``;`` or tab, found from the
header (the one whose fields name the columns), or given (``delimiter=";"``).

Amounts are read from their text by :func:`~ecartpay_async.money.read_amount`
(never through float, never guessed): ``1250.5`` MXN is fine; ``1250.505``,
``1.250`` BRL (1.25 or 1250?), ``1,250.00`` and ``1.23457E+11`` are refused unless
the number format is named: ``decimal_separator=","`` reads ``1.250,50`` as 1250.50.

:class:`CsvSource` reads the file twice: :meth:`~CsvSource.validate` checks every row
and counts them, keeping only the reference_ids seen (for duplicates); iterating
then streams the rows again as :class:`PayoutRequest`. So a large file is never held
in memory, and a batch over it still refuses the whole file when one row is bad.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import IO, Final

import attrs

from .._reprs import safe_repr
from ..errors import ValidationError
from ..models.common import visible_text_problem
from ..models.payouts import PayoutRequest
from ..money import DecimalSeparator, check_currency, read_amount
from .validate import BatchValidationError, DuplicateCheck, ProblemList, RowProblem, to_request

__all__ = [
    "REQUIRED_COLUMNS",
    "CsvSource",
    "CsvSummary",
    "CurrencyAmounts",
    "parse_bool",
    "parse_column_map",
]

REQUIRED_COLUMNS: Final = ("email", "amount", "currency", "reference_id")
OPTIONAL_COLUMNS: Final = ("require_confirmation",)
#: Delimiters found from the header when none is given, most likely first.
DETECTED_DELIMITERS: Final = (",", ";", "\t")
#: How an operator settles an amount the file's text leaves ambiguous.
FORMAT_HINT: Final = "--decimal-separator , for 1.250,50 or --decimal-separator . for 1,250.50"
_TRUE: Final = frozenset({"true", "t", "1", "yes", "y", "si", "sí"})
_FALSE: Final = frozenset({"false", "f", "0", "no", "n", ""})
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_bool(text: str) -> bool:
    """``require_confirmation`` as written in a sheet; raises ValueError otherwise."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true/false, yes/no or 1/0")


def normalize_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def parse_column_map(text: str) -> dict[str, str]:
    """``email=correo,amount=monto`` as ``{"email": "correo", "amount": "monto"}``.

    Raises ValueError naming what is wrong: a pair without ``=``, a column the file
    format does not have, a column or a header named twice.
    """
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        column, equals, header = pair.partition("=")
        column, header = normalize_header(column), header.strip()
        if not equals or not header:
            raise ValueError(f"{pair.strip()!r} is not COLUMN=HEADER (such as amount=monto)")
        if column in mapping:
            raise ValueError(f"{column!r} is mapped twice")
        mapping[column] = header
    return _checked_columns(mapping)


def _checked_columns(mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping with headers normalized; refuses unknown columns and shared headers."""
    checked: dict[str, str] = {}
    for key, header in mapping.items():
        column = normalize_header(key)
        if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            known = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
            raise ValueError(f"{column!r} is not a column; expected one of {known}")
        checked[column] = normalize_header(header)
    # Every column's header, mapped or its own, must be a different one.
    headers = [checked.get(column, column) for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    shared = next((name for name in headers if headers.count(name) > 1), None)
    if shared is not None:
        raise ValueError(f"header {shared!r} would be two columns")
    return checked


@safe_repr
@attrs.frozen(slots=True)
class CurrencyAmounts:
    """One currency's rows in a file: how many, their total, the largest and smallest
    amount (a slip of 1000x shows as an outlier before anything is sent)."""

    rows: int
    total: Decimal
    largest: Decimal
    smallest: Decimal

    def add(self, amount: Decimal) -> CurrencyAmounts:
        return CurrencyAmounts(self.rows + 1, self.total + amount,
                               max(self.largest, amount), min(self.smallest, amount))


@safe_repr
@attrs.frozen(slots=True)
class CsvSummary:
    """What a valid file holds: row count, the total per currency, and each currency's
    count, total, largest and smallest amount."""

    rows: int
    totals: dict[str, Decimal]
    require_confirmation: int
    currencies: dict[str, CurrencyAmounts] = attrs.field(factory=dict)


@safe_repr
@attrs.frozen(slots=True)
class _Row:
    row: int
    line: int
    request: PayoutRequest | None
    problem: RowProblem | None


class _FileProblem(Exception):
    """The file cannot be read further (bad header, bad encoding, broken quoting)."""

    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """The file's lines as text, decoded one by one so a bad byte has a line number.

    Splitting bytes on newlines is safe in UTF-8 (no multi-byte sequence holds 0x0A);
    line endings are kept, as csv wants them.
    """
    for number, raw in enumerate(handle, 1):
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise _FileProblem(RowProblem(
                    0, "file", "is UTF-16 text; save it as 'CSV UTF-8'", 1
                ))
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _FileProblem(RowProblem(
                0, "file",
                f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as 'CSV UTF-8'",
                number,
            )) from None


@safe_repr
class CsvSource:
    """A CSV file of payouts, usable wherever a batch takes its requests.

    ``len(source)`` and iteration validate the whole file first (once) and raise
    :class:`BatchValidationError` listing every bad row by line number.

    ``decimal_separator`` names the amounts' number format (``","``: ``1.250,50``;
    ``"."``: ``1,250.50``; None: plain numbers only). ``delimiter`` is the field
    separator (None: found from the header). ``columns`` maps a column to the
    file's header for it (``{"amount": "monto"}``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        decimal_separator: DecimalSeparator | None = None,
        delimiter: str | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        if decimal_separator not in (None, ".", ","):
            raise ValidationError("decimal_separator",
                                  f"must be '.' or ',', not {decimal_separator!r}")
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise ValidationError("delimiter", f"must be one character (not a quote or a line "
                                               f"break), not {delimiter!r}")
        try:
            mapped = _checked_columns(columns or {})
        except ValueError as exc:
            raise ValidationError("columns", str(exc)) from None
        self.decimal_separator = decimal_separator
        self.delimiter = delimiter
        self.columns = mapped
        self._summary: CsvSummary | None = None
        self._stamp: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"CsvSource({self.path!r})"

    def __len__(self) -> int:
        return self.validate().rows

    def validate(self) -> CsvSummary:
        """Check every row; return the summary or raise with every problem found."""
        if self._summary is not None:
            return self._summary
        problems = ProblemList(self.path)
        duplicates = DuplicateCheck()
        currencies: dict[str, CurrencyAmounts] = {}
        rows = confirmations = 0
        stamp = self._file_stamp(problems)
        problems.raise_if_any()  # a file that cannot be read has no rows to check
        try:
            for parsed in self._parse():
                if parsed.problem is not None:
                    problems.add(parsed.problem)
                    continue
                request = parsed.request
                assert request is not None
                assert request.reference_id is not None
                duplicate = duplicates.check(request.reference_id, parsed.row, parsed.line)
                if duplicate is not None:
                    problems.add(duplicate)
                    continue
                rows += 1
                amount = request.amount
                seen = currencies.get(request.currency)
                currencies[request.currency] = (
                    CurrencyAmounts(1, amount, amount, amount) if seen is None else seen.add(amount)
                )
                confirmations += request.require_confirmation
        except _FileProblem as exc:
            problems.add(exc.problem)
        except OSError as exc:
            problems.add(RowProblem(0, "file", f"cannot be read: {exc.strerror or exc}"))
        if not problems and rows == 0:
            problems.add(RowProblem(0, "file", "has no payout rows", line=1))
        problems.raise_if_any()
        self._stamp = stamp
        currencies = dict(sorted(currencies.items()))
        totals = {currency: seen.total for currency, seen in currencies.items()}
        self._summary = CsvSummary(rows, totals, confirmations, currencies)
        return self._summary

    def __iter__(self) -> Iterator[PayoutRequest]:
        self.validate()
        if self._file_stamp(None) != self._stamp:
            raise BatchValidationError(
                [RowProblem(0, "file", "changed after it was validated; run again")],
                source=self.path,
            )
        try:
            for parsed in self._parse():
                if parsed.problem is not None:  # only if the file changed under us
                    raise BatchValidationError([parsed.problem], source=self.path)
                assert parsed.request is not None
                yield parsed.request
        except _FileProblem as exc:
            raise BatchValidationError([exc.problem], source=self.path) from None

    def _file_stamp(self, problems: ProblemList | None) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError as exc:
            if problems is not None:
                problems.add(RowProblem(0, "file", f"cannot be read: {exc.strerror or exc}"))
            return None
        return info.st_size, info.st_mtime_ns

    def _header_names(self) -> dict[str, str]:
        """Each column's header name, as normalized: the mapped one or its own."""
        return {name: self.columns.get(name, name) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}

    def _parse(self) -> Iterator[_Row]:
        with open(self.path, "rb") as handle:
            lines = _decoded_lines(handle)
            head: list[str] = []
            for line in lines:  # up to the header, to find the delimiter
                head.append(line)
                if line.strip(" \t\r\n,;"):
                    break
            delimiter = self.delimiter or _detect_delimiter(
                head[-1] if head else "", [self._header_names()[c] for c in REQUIRED_COLUMNS]
            )
            reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
            try:
                columns, width = self._header(reader)
                row = 0
                for fields in reader:
                    if not any(field.strip() for field in fields):
                        continue  # blank lines are not rows
                    row += 1
                    yield self._row(row, reader.line_num, fields, columns, width, delimiter)
            except csv.Error as exc:
                raise _FileProblem(
                    RowProblem(0, "file", f"is not valid CSV: {exc}", reader.line_num)
                ) from None

    def _header(self, reader: Iterator[list[str]]) -> tuple[dict[str, int], int]:
        for fields in reader:
            if any(field.strip() for field in fields):
                break
        else:
            raise _FileProblem(RowProblem(0, "file", "is empty", 1))
        line = reader.line_num  # type: ignore[attr-defined]
        if any(_CONTROL.search(field) for field in fields):
            raise _FileProblem(RowProblem(0, "file", "is not a CSV text file", line))
        names = [normalize_header(field) for field in fields]
        column_of = {header: column for column, header in self._header_names().items()}
        columns: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in column_of:
                column = column_of[name]
                if column in columns:
                    raise _FileProblem(RowProblem(0, "header", f"column {name!r} appears twice",
                                                  line))
                columns[column] = index
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise _FileProblem(RowProblem(0, "header", self._missing(missing, fields), line))
        while fields and not fields[-1].strip():  # trailing empty header cells
            fields = fields[:-1]
        return columns, len(fields)

    def _missing(self, missing: list[str], fields: list[str]) -> str:
        """The header's problem: which columns are missing, and the options that help."""
        found = ", ".join(repr(field.strip()) for field in fields if field.strip())
        named = ", ".join(
            f"{name} (as {self.columns[name]!r})" if name in self.columns else name
            for name in missing
        )
        reason = f"missing column{'s' if len(missing) > 1 else ''} {named} (found {found})"
        if len(fields) == 1 and any(sep in fields[0] for sep in ";\t|"):
            return f"{reason}; the file does not seem to be comma-separated: give its --delimiter"
        example = ",".join(f"{name}=<your header>" for name in missing)
        return f"{reason}; map your headers with --columns {example}"

    def _row(
        self, row: int, line: int, fields: list[str], columns: dict[str, int], width: int,
        delimiter: str,
    ) -> _Row:
        # Extra non-empty fields usually mean an unquoted delimiter inside a value
        # ("1,250.00"): refuse the row rather than guess which field is which.
        extra = fields[width:]
        if len(fields) < width or any(field.strip() for field in extra):
            separator = "comma" if delimiter == "," else repr(delimiter)
            return _Row(row, line, None, RowProblem(
                row, "row",
                f"has {len(fields)} fields but the header has {width}"
                + (f" (an unquoted {separator} in a value?)" if len(fields) > width else ""),
                line,
            ))
        values = {name: fields[index].strip() for name, index in columns.items()}
        for name, value in values.items():
            problem = visible_text_problem(value)  # the models' own rule, on every column
            if problem is not None:
                return _Row(row, line, None, RowProblem(row, name, problem, line))
        data: dict[str, object] = {k: v for k, v in values.items() if v and k in REQUIRED_COLUMNS}
        confirmation = values.get("require_confirmation", "")
        try:
            data["require_confirmation"] = parse_bool(confirmation)
            if values["amount"] and _is_currency(values["currency"]):
                # Read here, in the file's number format; a bad currency is the
                # request's to report first.
                data["amount"] = read_amount(
                    values["amount"], check_currency(values["currency"]),
                    decimal_separator=self.decimal_separator, hint=FORMAT_HINT,
                )
            request = to_request(data)
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                field, reason = exc.field, exc.reason
            else:
                field, reason = "require_confirmation", str(exc)
            return _Row(row, line, None, RowProblem(row, field, reason, line))
        return _Row(row, line, request, None)


def _is_currency(text: str) -> bool:
    try:
        check_currency(text)
    except ValidationError:
        return False
    return True


def _detect_delimiter(header: str, names: list[str]) -> str:
    """The delimiter whose fields in ``header`` hold every column name; failing that,
    the one that splits the header most (so the header's error lists its real names)."""
    splits: dict[str, int] = {}
    for delimiter in DETECTED_DELIMITERS:
        try:
            fields = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:
            continue
        if set(names) <= {normalize_header(field) for field in fields}:
            return delimiter
        splits[delimiter] = len(fields)
    return max(splits, key=lambda delimiter: splits[delimiter], default=",")
