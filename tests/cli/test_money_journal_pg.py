"""The README's several-hosts demo in a database where another user ran it first.

Another user ran the ``payroll-demo`` batch against their own sandbox in the same
PostgreSQL database: your run is refused in one line, exit 2, nothing sent (it used
to find every row "already done" and pay nobody). Your own schema takes it.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from pg_helpers import pg_database

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

__all__ = ["pg_database"]  # the fixture, imported for pytest

ROWS = ("email,amount,currency,reference_id\n"
        "ana@example.com,10.00,MXN,demo-1\nbeto@example.com,5,MXN,demo-2\n")


def send(path: Path, dsn: str, sandbox: Sandbox, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        ["payouts", "send", str(path), "--journal", dsn, "--batch", "payroll-demo",
         "--base-url", sandbox.base_url, *extra],
        env={"ECARTPAY_PUBLIC_KEY": sandbox.public_key,
             "ECARTPAY_PRIVATE_KEY": sandbox.private_key},
    )


def test_another_users_demo_in_the_same_database_is_refused(
    tmp_path: Path, pg_database: str
) -> None:
    path = tmp_path / "payroll.csv"
    path.write_text(ROWS, encoding="utf-8")
    with Sandbox() as theirs:
        assert send(path, pg_database, theirs).exit_code == 0
    with Sandbox() as mine:
        refused = send(path, pg_database, mine)
        assert mine.state.payouts() == []
        own = send(path, pg_database, mine, "--schema", "mine")
        assert len(mine.state.payouts()) == 2
    assert refused.exit_code == 2, refused.output
    [line] = [line for line in refused.stderr.splitlines() if "belongs to another run" in line]
    assert "nothing was sent" in line
    assert "--schema" in line
    assert own.exit_code == 0, own.output
    assert "paid now: 2 rows, 15.00 MXN" in own.stdout
