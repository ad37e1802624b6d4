"""The ``ecartpay-async`` command (also ``python -m ecartpay_async``); the ``cli`` extra.

``payouts send FILE.csv`` pays every row of a CSV file through the batch engine;
``payouts list|get|confirm`` look at and release single payouts; ``sandbox serve``
(with the ``sandbox`` extra) runs the local emulator. Keys come from
``ECARTPAY_PUBLIC_KEY`` / ``ECARTPAY_PRIVATE_KEY`` and are never printed.

Exit codes of ``payouts send``: :data:`EXIT_CODES` (shown by ``payouts send --help``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from .._version import __version__
from ._extra import is_missing_extra, needs_the_cli_extra
from ._params import POSITIVE_FINITE, checked_journal, non_empty
from .csv_options import csv_format_options, csv_source
from .wording import KEY_VARIABLES, counted, say_error

if TYPE_CHECKING:
    from rich.console import Console

    from ..batch import BatchReport, CsvSource, CsvSummary, Outcome
    from ..client import AsyncClient
    from ..models.payouts import Payout
    from .display import Tally
    from .export import ReportWriter

__all__ = ["main"]

T = TypeVar("T")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_INVALID: Final = 2
EXIT_STOPPED: Final = 3
EXIT_ALREADY_DONE: Final = 4
EXIT_INTERRUPTED: Final = 130

#: What each exit code of ``payouts send`` means (its --help and the README list them).
EXIT_CODES: Final = (
    (EXIT_OK, "every row paid, pending or skipped (done by an earlier run)"),
    (EXIT_FAILED, "some rows failed (listed, and in --report)"),
    (EXIT_INVALID, "invalid file, options, keys, journal or balance: nothing was sent"),
    (EXIT_STOPPED, "stopped early: a fatal error, the breaker, or an address that cannot be "
                   "reached"),
    (EXIT_ALREADY_DONE, "every row already paid by an earlier run (0 with --expect-done)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)


#: click (8.2+) shows a group's help by raising this usage error: not a mistake.
_HELP_SHOWN: Final[type[Exception] | tuple[()]] = getattr(
    click.exceptions, "NoArgsIsHelpError", ()
)


class _Commands(click.Group):
    """The root group. A command reaching for a package of the ``cli`` extra that is not
    installed (``rich``, when only the ``sandbox`` extra brought click) names the extra
    to install instead of showing a traceback."""

    def __repr__(self) -> str:  # click's reads self.name, unset on a half-built one
        return f"<{type(self).__name__} {getattr(self, 'name', None)!r}>"

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            if not is_missing_extra(exc):
                raise
            needs_the_cli_extra()
        except click.ClickException as exc:
            if isinstance(exc, _HELP_SHOWN):
                raise  # a group given no command: click shows its help
            # click's own layout (usage, then the hint), with "error:" as every command
            # of ours writes it rather than click's "Error:".
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
                click.echo(f"Try '{exc.ctx.command_path} {exc.ctx.help_option_names[0]}' "
                           "for help.\n", err=True)
            say_error(exc.format_message())
            sys.exit(exc.exit_code)


def _send_epilog() -> str:
    # "\b" keeps click from re-wrapping these lines into one paragraph.
    codes = "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES)
    return (
        "\b\nEnvironment variables:\n"
        f"  {KEY_VARIABLES[0]}, {KEY_VARIABLES[1]}\n"
        "       your Ecart Pay keys (not needed with --sandbox; never printed)\n"
        "  ECARTPAY_BASE_URL     the same as --base-url\n"
        "  ECARTPAY_ENVIRONMENT  the same as --environment\n"
        f"\n\b\nExit codes:\n{codes}"
    )


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecartpay-async")
def main() -> None:
    """Ecart Pay from the command line: payouts in bulk, exactly once."""


@main.group()
def payouts() -> None:
    """Send payouts from a CSV file; list, show and confirm payouts."""


def _connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--environment", type=click.Choice(["sandbox", "production"]), default="sandbox",
        envvar="ECARTPAY_ENVIRONMENT", show_default=True, help="Which Ecart Pay to talk to.",
    )(command)
    return click.option(
        "--base-url", envvar="ECARTPAY_BASE_URL", metavar="URL",
        help="API origin, e.g. http://127.0.0.1:8000 (wins over --environment).",
    )(command)


# -- payouts send ------------------------------------------------------------------------


@payouts.command("send", epilog=_send_epilog())
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--journal", metavar="PATH|DSN", callback=checked_journal,
              help="SQLite file, or postgresql://... to split the batch between hosts: "
                   "makes the run resumable and never pays a row twice.")
@click.option("--batch", "batch_label", metavar="NAME", callback=non_empty,
              help="The rows' label in a PostgreSQL journal (default: the file's name).")
@click.option("--schema", default="ecartpay", show_default=True, callback=non_empty,
              envvar="ECARTPAY_JOURNAL_SCHEMA",
              help="The PostgreSQL schema holding the journal: one per account "
                   "(or ECARTPAY_JOURNAL_SCHEMA).")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=64, show_default=True,
              help="Payouts in flight at most.")
@click.option("--rate-limit", type=POSITIVE_FINITE, metavar="N",
              help="At most N payouts started per second.")
@click.option("--max-retries", type=click.IntRange(0, 50), default=None,
              help="Retries per payout (default 8).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write one line per row: .csv, or .jsonl for JSON Lines.")
@click.option("--dry-run", is_flag=True,
              help="Validate the file and show, per currency, the rows, the total and the "
                   "largest and smallest amount; send nothing.")
@click.option("--sandbox", is_flag=True,
              help="Run against an in-process emulator (recipients registered, balance funded).")
@click.option("--sandbox-faults", metavar="SPEC", hidden=True,
              help='Faults for --sandbox, e.g. "5xx=0.1,429=0.05,retry_after=0.05".')
@click.option("--balance", "balances", multiple=True, metavar="CUR=AMOUNT",
              help="With --sandbox: the starting balance in a currency, e.g. MXN=50000 "
                   "(repeatable; the others keep the default funding).")
@click.option("--allow-short", is_flag=True,
              help="Send even if the available balance does not cover the batch.")
@click.option("--expect-done", is_flag=True,
              help="Exit 0, not 4, when every row was already paid by an earlier run.")
@click.option("--yes", is_flag=True,
              help="Production: send without asking to type the row count (for scripts).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="json: one JSON object per row on stderr instead of the progress display.")
@csv_format_options
@_connection_options
def send_command(
    file: Path,
    journal: str | None,
    batch_label: str | None,
    schema: str,
    concurrency: int,
    rate_limit: float | None,
    max_retries: int | None,
    report_path: Path | None,
    dry_run: bool,
    sandbox: bool,
    sandbox_faults: str | None,
    balances: tuple[str, ...],
    allow_short: bool,
    expect_done: bool,
    yes: bool,
    log_format: str,
    decimal_separator: str | None,
    delimiter: str | None,
    columns: dict[str, str],
    base_url: str | None,
    environment: str,
) -> None:
    """Pay every row of FILE.csv (columns email, amount, currency, reference_id and
    optionally require_confirmation)."""
    from ..batch import BatchValidationError

    json_stderr = None
    if log_format == "json":  # every line on stderr a JSON object, whatever happens
        from .events import MessagesAsJson

        json_stderr = MessagesAsJson(sys.stderr)
        sys.stderr = json_stderr  # a text stream, as TextIO is

        def restore(wrapper: MessagesAsJson = json_stderr) -> None:
            wrapper.close()
            sys.stderr = wrapper.stream

        click.get_current_context().call_on_close(restore)
    out, err = _console(), _console(stderr=True)
    funds = _sandbox_balances(balances, sandbox)
    source = csv_source(file, decimal_separator, delimiter, columns)
    try:
        summary = source.validate()
    except BatchValidationError as exc:
        say_error(exc.message)
        sys.exit(EXIT_INVALID)
    if dry_run:
        _print_dry_run(out, file, summary)
        from .dry_run import warn_lookalikes

        warn_lookalikes(out, source)
        _run(_show_balances, out, summary.totals, funds if sandbox else None, base_url,
             environment)
        sys.exit(EXIT_OK)
    from .approval import approve_send  # real money waits for the operator's approval

    if not sandbox and not approve_send(file, summary, environment=environment, assume_yes=yes):
        sys.exit(EXIT_INVALID)
    options: dict[str, Any] = {"concurrency": concurrency, "rate_limit": rate_limit}
    if journal is not None:
        options["journal"] = journal
        options["journal_schema"] = schema
    if batch_label is not None:
        options["batch_label"] = batch_label
    if max_retries is not None:
        options["max_retries"] = max_retries
    run = _SendRun(source, options, report_path, out, err)
    run.allow_short, run.expect_done = allow_short, expect_done
    if log_format == "json":  # rows, and the SDK's own logs if ECARTPAY_LOG is set
        from .._logging import configure_logging_from_env

        configure_logging_from_env(json_lines=True)
        run.json_run_id = json_stderr.run_id if json_stderr is not None else None
    if sandbox:
        code = _run(run.against_sandbox, sandbox_faults, funds)
    else:
        code = _run(run.against_api, base_url, environment)
    if code == EXIT_INTERRUPTED:
        from .interrupt import say_interrupted

        say_interrupted(run.tally, run.total, report_path, run.report_rows,
                        click.get_current_context(), journal=journal, sandbox=sandbox)
    sys.exit(code)


def _record(outcome: Outcome, progress: Any, tally: Tally, writer: ReportWriter | None) -> None:
    """A finished row into the progress, the counts and the report: all of them, so that
    the counts a Ctrl-C prints are the rows the report lists."""
    progress.add(outcome)
    tally.add(outcome)
    if writer is not None:
        writer.write(outcome)


def _recorder() -> Callable[[Outcome, Any, Tally, ReportWriter | None], None]:
    """:func:`_record`, protected from Ctrl-C on trio, which may deliver it between any
    two statements (asyncio delivers it only at an await): it then lands after."""
    import sniffio

    if sniffio.current_async_library() != "trio":
        return _record
    from trio.lowlevel import enable_ki_protection

    return enable_ki_protection(_record)


class _SendRun:
    """One ``payouts send``: the batch, its progress, its report file and its summary."""

    def __init__(
        self,
        source: CsvSource,
        options: dict[str, Any],
        report_path: Path | None,
        out: Console,
        err: Console,
    ) -> None:
        self.source = source
        self.options = options
        self.report_path = report_path
        self.out = out
        self.err = err
        self.json_run_id: str | None = None  # --log-format json: rows as JSON lines
        from .display import Tally

        self.tally = Tally()  # the counts so far, whatever the display (Ctrl-C says them)
        self.total: int | None = None
        self.report_rows: int | None = None  # rows the report lists, once it is closed
        self.json_events = False
        self.allow_short = False
        self.expect_done = False

    async def against_api(self, base_url: str | None, environment: str) -> int:
        client = _make_client(base_url, environment,
                              without_keys=", or add --sandbox to try without keys")
        if client is None:
            return EXIT_INVALID
        async with client:
            return await self._send(client)

    async def against_sandbox(self, faults: str | None, balances: Mapping[str, Any]) -> int:
        try:
            from ..sandbox import Sandbox
        except ImportError:
            say_error("--sandbox needs the sandbox extra: pip install 'ecartpay-async[sandbox]'")
            return EXIT_INVALID
        try:
            emulator = Sandbox(in_process=True, faults=faults, seed=0 if faults else None,
                               balances=balances, public_key=SANDBOX_KEYS[0],
                               private_key=SANDBOX_KEYS[1])
        except ValueError as exc:
            say_error(f"--sandbox-faults: {exc}")
            return EXIT_INVALID
        async with emulator:
            self.err.print("Running against the in-process sandbox (no real money moves).")
            async with emulator.client() as client:
                code = await self._send(client)
            payouts = emulator.state.payouts()
            references = {p.reference_id for p in payouts}
            self.out.print(
                f"sandbox: {counted(len(payouts), 'payout')} recorded for "
                f"{counted(len(references), 'reference_id')}",
                highlight=False,
            )
        return code

    def _count_report(self, writer: Callable[[], ReportWriter | None]) -> None:
        # Runs after the report is closed (its rows all written), Ctrl-C or not.
        opened = writer()
        self.report_rows = None if opened is None else opened.rows

    async def _send(self, client: AsyncClient) -> int:
        from ..batch import BatchValidationError
        from ..errors import JournalError
        from .display import LiveProgress, render_summary, render_worker
        from .export import ReportWriter

        batch_log = logging.getLogger("ecartpay_async.batch")
        if not batch_log.handlers:
            # The summary says why a batch stopped; Python's last-resort handler would
            # print the batch's own warning about it too. Configured logging still gets it.
            batch_log.addHandler(logging.NullHandler())
        from .balance import BalanceShortfall, balance_check

        check = balance_check(client, self.err, allow_short=self.allow_short)
        try:
            batch = client.payouts.batch(self.source, before_sending=check, **self.options)
        except ImportError as exc:
            say_error(str(exc))  # a postgresql:// journal without the extra
            return EXIT_INVALID
        with contextlib.ExitStack() as files:
            writer = None
            files.callback(self._count_report, lambda: writer)
            if self.report_path is not None:
                try:
                    writer = files.enter_context(ReportWriter(self.report_path))
                except OSError as exc:
                    say_error(f"--report: cannot write {self.report_path}: {exc.strerror}")
                    return EXIT_INVALID
            from .events import RowEvents

            events = RowEvents(run_id=self.json_run_id) if self.json_run_id else None
            try:
                async with batch:
                    self.total = batch.total
                    with events or LiveProgress(self.err, batch.total,
                                                pauses=lambda: batch.pauses) as progress:
                        record = _recorder()
                        async for outcome in batch:
                            record(outcome, progress, self.tally, writer)
                            failed = writer is not None and writer.failure is not None
                            if failed and not batch.stopped:
                                batch.stop("the report cannot be written")
            except (BatchValidationError, JournalError) as exc:
                # Raised before anything was sent (pre-flight or opening the journal).
                say_error(exc.message)
                return EXIT_INVALID
            except BalanceShortfall as exc:
                click.echo(str(exc), err=True)
                return EXIT_INVALID
        if batch.adopted:
            self.err.print(
                f"note: the journal {getattr(batch.journal, 'path', '')} recorded no origin or "
                "account (an earlier version wrote it); it now belongs to this run's origin "
                f"{client.base_url} and its account",
                highlight=False, soft_wrap=True,
            )
        report = batch.report
        if writer is not None and writer.problem is not None:
            say_error(f"{writer.problem}; the batch stopped (rows sent so far are in "
                      "the journal and on Ecart Pay)")
            return EXIT_STOPPED
        unreachable = _unreachable(report, client.base_url)
        if unreachable is not None and not report.attempts:
            # Nothing went out: the one line says all there is to say.
            click.echo(unreachable, err=True)
            return EXIT_STOPPED
        if events is not None:
            events.finish(report)
        render_summary(
            self.out, report, progress.tally if isinstance(progress, LiveProgress) else None
        )
        if batch.held_elsewhere or getattr(batch.journal, "shared", False):
            render_worker(self.out, batch,
                          progress.tally if isinstance(progress, LiveProgress) else None)
        if self.report_path is not None:
            self.out.print(f"report written to {self.report_path}", highlight=False,
                           soft_wrap=True, markup=False)
        if report.total and report.skipped == report.total and not report.aborted:
            # Workers sharing a journal may well find that their peers did it all.
            shared = getattr(batch.journal, "shared", False)
            expected = self.expect_done or shared
            by_whom = "an earlier run or another worker" if shared else "an earlier run"
            self.out.print(
                f"every row ({report.total:,}) was already paid by {by_whom}: nothing "
                "was sent" + ("" if expected else " (--expect-done to exit 0)"),
                highlight=False, soft_wrap=True,
            )
            return EXIT_OK if expected else EXIT_ALREADY_DONE
        return exit_code(report)


def _unreachable(report: BatchReport, base_url: str) -> str | None:
    """The line for a batch stopped because the API's address cannot be reached."""
    from ..batch.report import describe_error
    from ..errors import APIConnectionError

    error = report.abort_error
    if not isinstance(error, APIConnectionError):
        return None
    cause = describe_error(error.__cause__ or error)
    return (f"error: cannot reach {base_url} ({cause}); "
            "check --base-url or ECARTPAY_BASE_URL, and the network")


def exit_code(report: BatchReport) -> int:
    """The command's exit code for a finished batch."""
    if report.aborted:
        return EXIT_STOPPED
    if report.failed:
        return EXIT_FAILED
    return EXIT_OK


def _print_dry_run(out: Console, file: Path, summary: CsvSummary) -> None:
    from rich.table import Table

    # The title is a line of its own, never wrapped: a table title wraps to the table's
    # width and would cut the file's path in two.
    out.print(f"{file}: {counted(summary.rows, 'valid row')} (dry run, nothing sent)",
              soft_wrap=True, highlight=False, markup=False)
    # Largest and smallest beside the total: an amount read 1000x off stands out.
    table = Table()
    table.add_column("currency")
    for name in ("rows", "total", "largest", "smallest"):
        table.add_column(name, justify="right")
    for currency, amounts in summary.currencies.items():
        table.add_row(currency, f"{amounts.rows:,}", f"{amounts.total:,}",
                      f"{amounts.largest:,}", f"{amounts.smallest:,}")
    out.print(table)
    confirmations = summary.require_confirmation
    if confirmations:
        requires = "requires" if confirmations == 1 else "require"
        out.print(f"{counted(confirmations, 'row')} {requires} confirmation "
                  "(they will stay pending)",
                  highlight=False)


#: The ``--sandbox`` merchant's keys: the same on every run, so that a rehearsal's
#: journal is the same account's on the next rehearsal (and no other's).
SANDBOX_KEYS: Final = ("pub_sandbox_in_process", "priv_sandbox_in_process")


def _sandbox_balances(given: tuple[str, ...], sandbox: bool) -> dict[str, Any]:
    """``--balance`` as the in-process sandbox's starting balances (exit 2 if unreadable)."""
    if given and not sandbox:
        click.echo("error: --balance sets the --sandbox emulator's balance; add --sandbox",
                   err=True)
        sys.exit(EXIT_INVALID)
    try:
        from ..sandbox.state import parse_balances
    except ImportError:
        return {}  # without the extra --sandbox says what to install
    try:
        return parse_balances(given)
    except ValueError as exc:
        click.echo(f"error: --balance: {exc}", err=True)
        sys.exit(EXIT_INVALID)


async def _show_balances(
    out: Console,
    totals: dict[str, Any],
    sandbox: Mapping[str, Any] | None,
    base_url: str | None,
    environment: str,
) -> int:
    """The dry run's balances (:mod:`.balance`): shown when readable, never blocking."""
    from ..client import AsyncClient
    from ..errors import ConfigurationError
    from .balance import Balances, fetch_balances, print_balances

    currencies = list(totals)
    if sandbox is not None:
        try:
            from ..sandbox import Sandbox
        except ImportError:
            print_balances(out, totals, Balances(unavailable="the sandbox extra is not installed"))
            return EXIT_OK
        emulator = Sandbox(in_process=True, balances=sandbox or None,
                           public_key=SANDBOX_KEYS[0], private_key=SANDBOX_KEYS[1])
        async with emulator, emulator.client() as client:
            balances = await fetch_balances(client, currencies)
    else:
        try:
            api = AsyncClient(base_url=base_url, environment=environment)  # type: ignore[arg-type]
        except ConfigurationError as exc:
            from .wording import configuration_problem

            balances = Balances(unavailable=configuration_problem(exc))
        else:
            async with api:
                balances = await fetch_balances(api, currencies)
    print_balances(out, totals, balances)
    return EXIT_OK


# -- payouts list / get / confirm ---------------------------------------------------------


@payouts.command("list")
@click.option("--status", help="Only payouts in this status (paid, pending, ...).")
@click.option("--reference-id", help="Only the payout with this reference_id.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="Show at most this many payouts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_connection_options
def list_command(
    status: str | None,
    reference_id: str | None,
    limit: int,
    as_json: bool,
    base_url: str | None,
    environment: str,
) -> None:
    """List payouts, newest first."""
    out = _console()

    async def run() -> int:
        client = _make_client(base_url, environment)
        if client is None:
            return EXIT_INVALID
        found: list[Payout] = []
        async with client:
            async for payout in client.payouts.list(
                status=status, reference_id=reference_id, limit=min(limit, 100)
            ):
                found.append(payout)
                if len(found) >= limit:
                    break
        if as_json:
            for payout in found:
                click.echo(_payout_json(payout))
        else:
            out.print(_payouts_table(found))
        return EXIT_OK

    sys.exit(_run_api(run))


@payouts.command("get")
@click.argument("payout_id")
@click.option("--json", "as_json", is_flag=True, help="Print the payout as JSON.")
@_connection_options
def get_command(payout_id: str, as_json: bool, base_url: str | None, environment: str) -> None:
    """Show one payout."""
    out = _console()

    async def run() -> int:
        client = _make_client(base_url, environment)
        if client is None:
            return EXIT_INVALID
        async with client:
            payout = await client.payouts.retrieve(payout_id)
        _show_payout(out, payout, as_json)
        return EXIT_OK

    sys.exit(_run_api(run))


def _payout_json(payout: Payout) -> str:
    from .. import _json
    from .._convert import unstructure

    return _json.dumps(unstructure(payout)).decode()


def _show_payout(out: Console, payout: Payout, as_json: bool) -> None:
    if as_json:
        click.echo(_payout_json(payout))
        return
    from .._convert import unstructure

    for key, value in unstructure(payout).items():
        out.print(f"{key:>22}: {value}", highlight=False, markup=False)


def _payouts_table(found: list[Payout]) -> Any:
    from rich.table import Table
    from rich.text import Text

    from .._convert import format_datetime

    table = Table()
    for name in ("id", "reference_id", "email", "amount", "currency", "status", "created_at"):
        table.add_column(name, justify="right" if name == "amount" else "left")
    for p in found:
        # Text cells, not markup: a reference_id such as "[blink]" is shown as it is.
        table.add_row(*(Text(cell) for cell in (
            p.id, p.reference_id or "", p.email or p.customer_id or "", f"{p.amount:,}",
            p.currency, str(p.status), format_datetime(p.created_at) if p.created_at else "",
        )))
    return table


# -- shared plumbing -------------------------------------------------------------------------


def _console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        # Logs and pipes have no width: do not cut ids and reasons to 80 columns.
        console = Console(stderr=stderr, width=200)
    return console


def _make_client(
    base_url: str | None, environment: str, *, without_keys: str = ""
) -> AsyncClient | None:
    """The client for a command, or None after saying in one line what is wrong.

    ``without_keys`` tells how to try the command with no keys, if it can be.
    """
    from ..client import AsyncClient
    from ..errors import ConfigurationError
    from .wording import configuration_problem

    try:
        return AsyncClient(base_url=base_url, environment=environment)  # type: ignore[arg-type]
    except ConfigurationError as exc:
        # The client says it the Python way (public_key=); here, in options and variables.
        problem = configuration_problem(exc, base_url=base_url, without_keys=without_keys)
        click.echo(f"error: {problem}", err=True)
        return None


def _run(function: Callable[..., Coroutine[Any, Any, int]], *args: Any) -> int:
    import os

    import anyio

    # Undocumented switch for tests: run the same command on trio.
    backend = os.environ.get("ECARTPAY_ASYNC_BACKEND", "asyncio")
    try:
        return anyio.run(function, *args, backend=backend)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED


def _run_api(function: Callable[[], Coroutine[Any, Any, int]]) -> int:
    from ..errors import EcartPayError

    try:
        return _run(function)
    except EcartPayError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED


def _mount_sandbox() -> None:
    # `sandbox serve` comes with the sandbox extra; without it the rest still works.
    try:
        from ..sandbox.cli import sandbox_group
    except ImportError:
        return
    main.add_command(sandbox_group)


_mount_sandbox()

from .status import status_command  # noqa: E402 (a command of its own module)

payouts.add_command(status_command)
