"""``sandbox serve``: the emulator on a port until Ctrl-C or SIGTERM.

``sandbox_group`` is a click group; the main CLI mounts it with
``main.add_command(sandbox_group)``.
"""

from __future__ import annotations

import math
import shlex
import signal
import sys
import threading
from types import FrameType

import click

from .state import LIST_SHAPES, REUSE_BEHAVIORS, parse_balances
from .validate import ERROR_STYLES

__all__ = ["MISSING_EXTRA", "sandbox_group"]

#: What ``sandbox serve`` says, in one line, when the ``sandbox`` extra is not installed.
MISSING_EXTRA = (
    'ecartpay-async: sandbox serve needs the "sandbox" extra: '
    'pip install "ecartpay-async[sandbox]"'
)
#: The packages of the ``sandbox`` extra that click alone does not bring.
_EXTRA_PACKAGES = frozenset({"starlette", "uvicorn"})


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A click callback: ``nan`` and ``inf`` pass FloatRange(0) but cannot be waited."""
    if not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number, got {value}")
    return value


def _export(name: str, value: str) -> str:
    """A line a POSIX shell runs as it is: ``export NAME=value``, the value quoted."""
    return f"export {name}={shlex.quote(value)}"


@click.group("sandbox")
def sandbox_group() -> None:
    """A local, stateful Ecart Pay emulator with fault injection."""


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--public-key", help="Merchant public key (generated if omitted).")
@click.option("--private-key", help="Merchant private key (generated if omitted).")
@click.option("--latency-ms", default=0.0, type=click.FloatRange(0), callback=_finite,
              help="Added to every request.")
@click.option("--faults", "faults", help='Fault spec, e.g. "5xx=0.1,429=0.05,reset=0.03".')
@click.option("--seed", type=int, help="Seed for fault injection.")
@click.option("--token-ttl", default=3600, show_default=True, type=click.IntRange(1))
@click.option(
    "--reuse-behavior", type=click.Choice(REUSE_BEHAVIORS), default="reject_400", show_default=True
)
@click.option("--list-shape", type=click.Choice(LIST_SHAPES), default="envelope", show_default=True)
@click.option("--webhook-secret", help="Webhook signing secret (generated if omitted).")
@click.option("--profile", "profile", metavar="FILE",
              help="Behave as a probed API did (a file written by `ecartpay-async probe`).")
@click.option("--balance", "balances", multiple=True, metavar="CUR=AMOUNT",
              help="The merchant's starting balance in a currency, e.g. MXN=50000 "
                   "(repeatable; the others keep the default funding).")
@click.option("--payout-email", is_flag=True,
              help="Payout answers carry the recipient's email (the documented shape has none).")
@click.option("--error-style", type=click.Choice(ERROR_STYLES), default="http",
              show_default=True,
              help="openapi: errors answer HTTP 500 with the status in the body's statusCode, "
                   "as Ecart Pay's OpenAPI file shows.")
def serve(
    host: str,
    port: int,
    public_key: str | None,
    private_key: str | None,
    latency_ms: float,
    faults: str | None,
    seed: int | None,
    token_ttl: int,
    reuse_behavior: str,
    list_shape: str,
    webhook_secret: str | None,
    profile: str | None,
    balances: tuple[str, ...],
    payout_email: bool,
    error_style: str,
) -> None:
    """Serve the sandbox until interrupted."""
    try:
        from .server import Sandbox
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _EXTRA_PACKAGES:
            raise
        click.echo(MISSING_EXTRA, err=True)
        sys.exit(2)

    if (public_key is None) != (private_key is None):
        raise click.UsageError("give both --public-key and --private-key, or neither")
    try:
        funds = parse_balances(balances)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--balance") from None
    try:
        sandbox = Sandbox(
            host=host,
            port=port,
            public_key=public_key,
            private_key=private_key,
            latency_ms=latency_ms,
            faults=faults,
            seed=seed,
            token_ttl=token_ttl,
            reuse_behavior=reuse_behavior,  # type: ignore[arg-type]
            list_shape=list_shape,  # type: ignore[arg-type]
            webhook_secret=webhook_secret,
            profile=profile,
            balances=funds,
            payout_email=payout_email,
            error_style=error_style,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sandbox.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        # Lines to paste into a shell as they are (the others are shell comments). Keys
        # given on the command line are not echoed back; generated ones must be shown.
        click.echo(f"# Ecart Pay sandbox running at {sandbox.base_url}; paste these lines:")
        click.echo(_export("ECARTPAY_BASE_URL", sandbox.base_url))
        click.echo(_export("ECARTPAY_PUBLIC_KEY", sandbox.public_key))
        if private_key is None:
            click.echo(_export("ECARTPAY_PRIVATE_KEY", sandbox.private_key))
        if webhook_secret is None:
            click.echo(_export("ECARTPAY_WEBHOOK_SECRET", sandbox.webhook_secret))
        if faults:
            click.echo(f"# faults: {sandbox.faults.spec}")
        if profile:
            click.echo(f"# behaving as the profile {profile} says")
        click.echo("Press Ctrl-C to stop.", err=True)
        stop.wait()
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("sandbox stopped", err=True)
