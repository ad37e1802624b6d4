"""A PostgreSQL journal from every command: ``send --schema``, ``reconcile`` and
``status`` read the same journal by DSN, never print its password, and show a batch
label as the text it is."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from pg_helpers import DSN, pg_schema, psycopg  # tests/batch, on the path (conftest)

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

__all__ = ["pg_schema"]  # the fixture, imported for pytest

ROWS = "email,amount,currency,reference_id\nana@example.com,10.00,MXN,pg-r-1\n" \
       "beto@example.com,20.50,MXN,pg-r-2\n"
LABEL = "[blink]march[/blink]"


def with_password(dsn: str) -> str:
    """The test server's DSN with a password in it (ignored by a trusting server)."""
    scheme, rest = dsn.split("://", 1)
    if "@" not in rest or ":" in rest.split("@", 1)[0]:
        return dsn
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:S3cret@{host}"


def run(args: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, args, env=env)


def test_send_reconcile_and_status_share_a_postgresql_journal(
    tmp_path: Path, pg_schema: str
) -> None:
    rows = tmp_path / "march.csv"
    rows.write_text(ROWS, encoding="utf-8")
    dsn = with_password(DSN)
    with Sandbox() as sb:
        keys = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        sent = run(["payouts", "send", str(rows), "--journal", dsn, "--schema", pg_schema,
                    "--batch", LABEL, "--base-url", sb.base_url], **keys)
        assert sent.exit_code == 0, sent.output
        reconciled = run(["payouts", "reconcile", str(rows), "--journal", dsn,
                          "--schema", pg_schema, "--base-url", sb.base_url], **keys)
        assert reconciled.exit_code == 0, reconciled.output
        assert "agrees with Ecart Pay on every row" in reconciled.output
    with psycopg.connect(DSN) as conn:  # the rows went to the schema --schema named
        found = conn.execute(f'SELECT batch, count(*) FROM "{pg_schema}".payouts GROUP BY batch'
                             ).fetchall()
    assert found == [(LABEL, 2)]
    status = run(["payouts", "status", "--journal", dsn, "--schema", pg_schema])
    assert status.exit_code == 0, status.output
    assert f"batch {LABEL}: 2 rows, 2 final" in status.output
    for result in (sent, reconciled, status):
        assert "S3cret" not in result.output
