"""What the operator tests share: CSV files, and the command as a real subprocess."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ecartpay_async import RetryPolicy
from ecartpay_async.sandbox import Sandbox

HEADER = "email,amount,currency,reference_id,require_confirmation\n"
ROOT = Path(__file__).resolve().parents[2]
#: Retries without the production backoff, so fault tests stay fast (Retry-After still holds).
FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)


def write_rows(path: Path, rows: Sequence[tuple[str, str, str, str, bool]]) -> Path:
    """A payout CSV: (email, amount, currency, reference_id, require_confirmation) rows."""
    lines = [f"{e},{a},{c},{r},{'yes' if h else 'no'}\n" for e, a, c, r, h in rows]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def command(*args: str) -> list[str]:
    """``ecartpay-async ARGS`` as this interpreter runs it (the worktree's code)."""
    return [sys.executable, "-m", "ecartpay_async", *args]


def cli_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    """The environment of a command aimed at ``sandbox`` (keys, this checkout first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECARTPAY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["ECARTPAY_PUBLIC_KEY"] = sandbox.public_key
    env["ECARTPAY_PRIVATE_KEY"] = sandbox.private_key
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env
