"""Payout rows from a CSV file: read exactly, checked whole before anything is sent.

Columns ``email, amount, currency, reference_id`` and optionally
``require_confirmation`` (true/false, 1/0, yes/no; empty means false). Header names
ignore case, surrounding spaces, and spaces or dashes inside (``Reference ID`` works);
other columns are ignored. The file is UTF-8, with or without a byte-order mark.
Amounts are read from the text as Decimal (never through float) and must fit the
currency: ``1250.5`` MXN is fine, ``1250.505`` is refused, ``1,250.00`` too.

:class:`CsvSource` reads the file twice: :meth:`~CsvSource.validate` checks every row
and counts them, keeping only the reference_ids seen (for duplicates); iterating
then streams the rows again as :class:`PayoutRequest`. So a large file is never held
in memory, and a batch over it still refuses the whole file when one row is bad.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Final

import attrs

from .._reprs import safe_repr
from ..errors import ValidationError
from ..models.common import visible_text_problem
from ..models.payouts import PayoutRequest
from .validate import BatchValidationError, DuplicateCheck, ProblemList, RowProblem, to_request

__all__ = ["REQUIRED_COLUMNS", "CsvSource", "CsvSummary", "parse_bool"]

REQUIRED_COLUMNS: Final = ("email", "amount", "currency", "reference_id")
OPTIONAL_COLUMNS: Final = ("require_confirmation",)
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


@safe_repr
@attrs.frozen(slots=True)
class CsvSummary:
    """What a valid file holds: row count and the total per currency."""

    rows: int
    totals: dict[str, Decimal]
    require_confirmation: int


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
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
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
        totals: dict[str, Decimal] = {}
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
                totals[request.currency] = totals.get(request.currency, Decimal(0)) + request.amount
                confirmations += request.require_confirmation
        except _FileProblem as exc:
            problems.add(exc.problem)
        except OSError as exc:
            problems.add(RowProblem(0, "file", f"cannot be read: {exc.strerror or exc}"))
        if not problems and rows == 0:
            problems.add(RowProblem(0, "file", "has no payout rows", line=1))
        problems.raise_if_any()
        self._stamp = stamp
        self._summary = CsvSummary(rows, dict(sorted(totals.items())), confirmations)
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

    def _parse(self) -> Iterator[_Row]:
        with open(self.path, "rb") as handle:
            lines = _decoded_lines(handle)
            reader = csv.reader(lines, strict=True)
            try:
                columns, width = self._header(reader)
                row = 0
                for fields in reader:
                    if not any(field.strip() for field in fields):
                        continue  # blank lines are not rows
                    row += 1
                    yield self._row(row, reader.line_num, fields, columns, width)
            except csv.Error as exc:
                raise _FileProblem(
                    RowProblem(0, "file", f"is not valid CSV: {exc}", reader.line_num)
                ) from None

    @staticmethod
    def _header(reader: Iterator[list[str]]) -> tuple[dict[str, int], int]:
        for fields in reader:
            if any(field.strip() for field in fields):
                break
        else:
            raise _FileProblem(RowProblem(0, "file", "is empty", 1))
        line = reader.line_num  # type: ignore[attr-defined]
        if any(_CONTROL.search(field) for field in fields):
            raise _FileProblem(RowProblem(0, "file", "is not a CSV text file", line))
        names = [normalize_header(field) for field in fields]
        columns: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
                if name in columns:
                    raise _FileProblem(RowProblem(0, "header", f"column {name!r} appears twice",
                                                  line))
                columns[name] = index
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            found = ", ".join(repr(field.strip()) for field in fields if field.strip())
            hint = ""
            if len(fields) == 1 and any(sep in fields[0] for sep in ";\t|"):
                hint = "; the file does not seem to be comma-separated"
            raise _FileProblem(RowProblem(
                0, "header",
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(found {found}){hint}",
                line,
            ))
        while fields and not fields[-1].strip():  # trailing empty header cells
            fields = fields[:-1]
        return columns, len(fields)

    @staticmethod
    def _row(row: int, line: int, fields: list[str], columns: dict[str, int], width: int) -> _Row:
        # Extra non-empty fields usually mean an unquoted comma inside a value
        # ("1,250.00"): refuse the row rather than guess which field is which.
        extra = fields[width:]
        if len(fields) < width or any(field.strip() for field in extra):
            return _Row(row, line, None, RowProblem(
                row, "row",
                f"has {len(fields)} fields but the header has {width}"
                + (" (an unquoted comma in a value?)" if len(fields) > width else ""),
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
            request = to_request(data)
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                field, reason = exc.field, exc.reason
            else:
                field, reason = "require_confirmation", str(exc)
            return _Row(row, line, None, RowProblem(row, field, reason, line))
        return _Row(row, line, request, None)
