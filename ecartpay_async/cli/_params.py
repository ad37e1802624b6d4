"""Option values the commands share, checked where they are given (exit 2, one line).

The rules themselves live below the command line: :mod:`ecartpay_async._options`
(positive, finite numbers) and :mod:`ecartpay_async.batch.dsn` (what a ``--journal``
names, and its password masked); these are their click faces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .._options import positive_finite
from .._reprs import safe_repr
from ..batch.dsn import journal_kind, mask_dsn
from ..errors import ConfigurationError

__all__ = ["POSITIVE_FINITE", "OptionRefused", "checked_journal", "non_empty", "shown_journal"]


@safe_repr
class OptionRefused(click.ClickException):
    """An option's value refused: one line (``Error: --rate-limit: ...``), exit 2."""

    exit_code = 2

    def __init__(self, param: click.Parameter | None, reason: str) -> None:
        name = param.opts[0] if param is not None and param.opts else "option"
        super().__init__(f"{name}: {reason}")

    def __str__(self) -> str:
        return getattr(self, "message", "")  # a half-built one still prints


if TYPE_CHECKING:
    _NumberType = click.ParamType[float]
else:  # click before 8.2 has no subscriptable ParamType
    _NumberType = click.ParamType


class _PositiveFinite(_NumberType):
    """A number above 0 that is not ``inf`` or ``nan`` (rates, seconds)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        if isinstance(value, float):
            return value
        try:
            return positive_finite("the value", float(value))
        except (TypeError, ValueError, ConfigurationError):
            raise OptionRefused(
                param, f"must be a positive, finite number, got {value!r}"
            ) from None


POSITIVE_FINITE = _PositiveFinite()


def non_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A callback refusing an empty text (``--batch ""`` would silently be "default")."""
    if value is not None and not value.strip():
        raise OptionRefused(param, "must not be empty")
    return value


def checked_journal(ctx: click.Context, param: click.Parameter, value: str | None
                    ) -> str | None:
    """A callback for ``--journal``: a SQLite path or a PostgreSQL DSN, shown masked when
    refused (``mysql://...`` is neither)."""
    if value is None:
        return None
    if not value.strip():
        raise OptionRefused(param, "must not be empty")
    try:
        journal_kind(value)
    except ValueError as exc:
        raise OptionRefused(param, str(exc)) from None
    return value


def shown_journal(journal: str) -> str:
    """A ``--journal`` value as a message may show it (password masked)."""
    return mask_dsn(journal)
