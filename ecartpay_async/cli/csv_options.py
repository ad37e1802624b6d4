"""The options that say how a CSV file is written: number format, delimiter, headers.

Shared by the commands that read a payout file (``payouts send``, ``payouts reconcile``)
so the file is read the same way by both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..batch import CsvSource

__all__ = ["csv_format_options", "csv_source"]

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ","}


def _delimiter(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    delimiter = _DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise click.BadParameter(f"{value!r} is not one character (such as ';', or 'tab')")
    return delimiter


def _columns(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, str]:
    from ..batch.source import parse_column_map

    if value is None:
        return {}
    try:
        return parse_column_map(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def csv_format_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--decimal-separator``, ``--delimiter`` and ``--columns`` to ``command``."""
    command = click.option(
        "--columns", callback=_columns, metavar="COLUMN=HEADER,...",
        help="Your headers for the columns, e.g. amount=monto,email=correo.",
    )(command)
    command = click.option(
        "--delimiter", callback=_delimiter, metavar="CHAR",
        help="The field separator, e.g. ';' or tab (default: found from the header: "
             "',', ';' or tab).",
    )(command)
    return click.option(
        "--decimal-separator", type=click.Choice([".", ","]),
        help="',' reads 1.250,50 as 1250.50; '.' reads 1,250.50. Without it, only plain "
             "amounts (1250.50) are read.",
    )(command)


def csv_source(
    file: Path, decimal_separator: str | None, delimiter: str | None, columns: dict[str, str]
) -> CsvSource:
    """The file as the options describe it."""
    from ..batch import CsvSource
    from ..money import DECIMAL_SEPARATORS

    # click's Choice already narrowed it; this tells the type checker which one.
    separator = next((s for s in DECIMAL_SEPARATORS if s == decimal_separator), None)
    return CsvSource(file, decimal_separator=separator, delimiter=delimiter, columns=columns)
