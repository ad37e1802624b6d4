"""What ``payouts send`` says when Ctrl-C stops it: the counts so far, where the report
is, and the exact command that picks the run up again."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .wording import counted

if TYPE_CHECKING:
    from .display import Tally

__all__ = ["resume_command", "say_interrupted"]

#: Options that describe this try only, not the run to resume.
_NOT_REPEATED = frozenset({"dry_run"})


def resume_command(ctx: click.Context) -> str:
    """The command line of ``ctx`` as given (every argument, and every option set to
    something else than its default), ready to paste into a shell."""
    words = ctx.command_path.split()
    for param in ctx.command.params:
        name = param.name or ""
        value = ctx.params.get(name)
        if name in _NOT_REPEATED or value is None:
            continue
        if isinstance(param, click.Argument):
            words.append(str(value))
        elif isinstance(param, click.Option) and value != param.default:
            option = param.opts[0]
            if param.is_flag:
                if value:
                    words.append(option)
            else:
                words += [option, str(value)]
    return shlex.join(words)


def say_interrupted(
    tally: Tally, total: int | None, report_path: Path | None, report_rows: int | None,
    ctx: click.Context, *, journal: str | None, sandbox: bool,
) -> None:
    """The lines after "interrupted", on stderr."""
    of = f" of {total:,}" if total is not None else ""
    click.echo(f"stopped after {counted(tally.done, 'row')}{of}: {tally.line()}", err=True)
    if report_path is not None:
        click.echo(f"report: {report_path} ({counted(report_rows or 0, 'row')} handled, in "
                   "input order)", err=True)
    command = resume_command(ctx)
    if sandbox:
        click.echo(f"to run again: {command} (the in-process sandbox starts empty)", err=True)
    elif journal is not None:
        click.echo(f"to resume: {command} (rows done are skipped; rows in flight are looked "
                   "up by reference_id before anything is sent again)", err=True)
    else:
        click.echo(f"to resume: {command} (without --journal every row is asked again; those "
                   "paid are found by reference_id, never paid twice; add --journal PATH "
                   "next time to skip them)", err=True)
