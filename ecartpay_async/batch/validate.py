"""Turning input rows into payouts, and saying precisely what is wrong with the bad ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from .._reprs import safe_repr
from ..errors import ValidationError
from ..models.payouts import PayoutRequest

__all__ = ["BatchValidationError", "DuplicateCheck", "ProblemList", "RowProblem", "to_request"]

#: Problems listed one by one; past this a file is wrong wholesale and a count says so.
MAX_PROBLEMS: Final = 1000


@safe_repr
@attrs.frozen(slots=True)
class RowProblem:
    """One thing wrong with one row: ``row`` counts input rows from 1 (0 for the file
    itself), ``line`` is the file line for CSV input."""

    row: int
    field: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"line {self.line}: {self.field}: {self.reason}"
        if self.row == 0:  # the input as a whole (a file that cannot be read)
            return f"{self.field}: {self.reason}"
        return f"row {self.row}: {self.field}: {self.reason}"


class BatchValidationError(ValidationError):
    """A batch refused before anything was sent; ``problems`` lists every bad row.

    ``str(error)`` is a summary line followed by one line per problem.
    """

    def __init__(
        self, problems: Sequence[RowProblem], *, omitted: int = 0, source: str | None = None
    ) -> None:
        count = len(problems) + omitted
        where = f" in {source}" if source else ""
        summary = f"{count} problem{'s' if count != 1 else ''}{where}; nothing was sent"
        super().__init__("rows", summary)
        lines = [summary, *(f"  {p}" for p in problems)]
        if omitted:
            lines.append(f"  ... and {omitted} more")
        self.message = "\n".join(lines)
        self.args = (self.message,)
        self.problems = tuple(problems)
        self.omitted = omitted


class ProblemList:
    """Collects problems up to :data:`MAX_PROBLEMS`, counting the rest."""

    def __init__(self, source: str | None = None) -> None:
        self.source = source
        self.problems: list[RowProblem] = []
        self.omitted = 0

    def add(self, problem: RowProblem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.omitted += 1

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise BatchValidationError(self.problems, omitted=self.omitted, source=self.source)


def to_request(item: object) -> PayoutRequest:
    """A batch row as a :class:`PayoutRequest` (mappings go through ``from_mapping``).

    Batches also require a ``reference_id``: it is what makes a row safe to retry.
    """
    if isinstance(item, PayoutRequest):
        request = item
    elif isinstance(item, Mapping):
        try:
            request = PayoutRequest.from_mapping(item)
        except TypeError as exc:  # keys that are not strings
            raise ValidationError("row", str(exc)) from None
    else:
        kind = type(item).__name__
        raise ValidationError("row", f"expected a PayoutRequest or a mapping, got {kind}")
    if request.reference_id is None:
        raise ValidationError("reference_id", "is required in a batch (it is the idempotency key)")
    return request


class DuplicateCheck:
    """Remembers each reference_id's first row to report later repeats."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def check(self, reference_id: str, row: int, line: int | None = None) -> RowProblem | None:
        first = self._first.setdefault(reference_id, line if line is not None else row)
        if first == (line if line is not None else row):
            return None
        where = "line" if line is not None else "row"
        return RowProblem(
            row, "reference_id", f"duplicate {reference_id!r} (first seen on {where} {first})",
            line,
        )
