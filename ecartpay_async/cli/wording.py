"""How the command line words things: counts with their plural, and the client's
configuration errors in the command line's terms (options and environment variables,
never the SDK's argument names)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

import click

if TYPE_CHECKING:
    from ..errors import ConfigurationError

__all__ = ["KEY_VARIABLES", "configuration_problem", "counted", "say_error"]

#: Where the keys come from: the command line never takes a key as an option.
KEY_VARIABLES: Final = ("ECARTPAY_PUBLIC_KEY", "ECARTPAY_PRIVATE_KEY")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,000 rows``; ``plural`` for nouns that do not take -s."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def configuration_problem(
    error: ConfigurationError, *, base_url: str | None = None, without_keys: str = ""
) -> str:
    """The one line (without ``error:``) a command says when it cannot build its client.

    ``without_keys`` tells how to try the command with no keys, if it can be.
    """
    missing = [name for name in KEY_VARIABLES if not os.environ.get(name, "").strip()]
    if error.field in ("public_key", "private_key") or missing:
        variables = " and ".join(missing or KEY_VARIABLES)
        return (f"no Ecart Pay keys: set the environment "
                f"{'variables' if len(missing) != 1 else 'variable'} {variables}{without_keys}")
    if error.field == "base_url":
        given = base_url or os.environ.get("ECARTPAY_BASE_URL")
        return ("--base-url (or ECARTPAY_BASE_URL) must be an http(s) origin such as "
                f"http://127.0.0.1:8000{f', got {given!r}' if given else ''}")
    return error.message


def say_error(message: str) -> None:
    """A command's refusal on stderr, ``error:`` first as in every command."""
    click.echo(f"error: {message}", err=True)
