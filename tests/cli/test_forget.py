"""``payouts forget``: a finished batch is forgotten, an unfinished one only with --force."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result

from ecartpay_async.batch import JournalRow, JournalState, SQLiteJournal
from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

ROWS = "email,amount,currency,reference_id\nana@example.com,10.00,MXN,f-1\n" \
       "beto@example.com,20.00,MXN,f-2\n"


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_a_finished_sqlite_batch_is_forgotten_and_runs_again(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, encoding="utf-8")
    journal = str(tmp_path / "j.db")
    with Sandbox() as sb:
        env = {"ECARTPAY_PUBLIC_KEY": sb.public_key, "ECARTPAY_PRIVATE_KEY": sb.private_key}
        send = ["payouts", "send", str(rows), "--journal", journal, "--base-url", sb.base_url]
        assert run(*send, **env).exit_code == 0
        forgot = run("payouts", "forget", "--journal", journal)
        assert forgot.exit_code == 0, forgot.output
        assert forgot.stdout.strip() == f"forgot 2 rows of journal {journal}"
        again = run(*send, **env)  # sent again: looked up, never paid twice
        assert again.exit_code == 4, again.output  # every row already paid (no --expect-done)
        assert "already paid earlier: 2 rows, 30.00 MXN" in again.stdout
        assert len(sb.state.payouts()) == 2


def test_an_unfinished_sqlite_batch_is_kept_unless_forced(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"

    async def half_done() -> None:
        async with SQLiteJournal(journal) as opened:
            await opened.register([JournalRow("a", "fp"), JournalRow("b", "fp")])
            await opened.claim([JournalRow("a", "fp")], "run-1")  # a: sending, b: pending
            await opened.finish("a", JournalState.PAID, payout_id="po_1", payout_status="paid")
            await opened.claim([JournalRow("b", "fp")], "run-1")

    anyio.run(half_done)
    refused = run("payouts", "forget", "--journal", str(journal))
    assert refused.exit_code == 1
    assert "is not finished: 1 row of 2 not sent yet or maybe in flight" in refused.stderr
    assert "nothing was forgotten" in refused.stderr
    forced = run("payouts", "forget", "--journal", str(journal), "--force")
    assert forced.exit_code == 0, forced.output
    assert "forgot 2 rows" in forced.stdout
    assert "(1 unfinished, --force)" in forced.stdout


def test_forget_refuses_what_it_cannot_name(tmp_path: Path) -> None:
    missing = run("payouts", "forget", "--journal", str(tmp_path / "nope.db"))
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: --journal: no such SQLite journal file")
    assert not (tmp_path / "nope.db").exists()
    labelled = run("payouts", "forget", "--journal", str(tmp_path / "nope.db"), "--batch", "x")
    assert labelled.exit_code == 2
    assert "a SQLite journal holds one batch" in labelled.stderr
    unnamed = run("payouts", "forget", "--journal", "postgresql://u@127.0.0.1:1/db")
    assert unnamed.exit_code == 2
    assert "--batch NAME" in unnamed.stderr


def test_forget_in_postgresql_takes_only_the_batch_named(tmp_path: Path) -> None:
    pg = pytest.importorskip("pg_helpers")
    from ecartpay_async.batch.postgres import PostgresJournal, batch_status

    schema = f"forget_{tmp_path.name[-8:].lower().replace('-', '_')}"
    rows = [JournalRow(f"{schema}-{i}", "fp", Decimal("1.00"), "MXN") for i in range(3)]

    async def prepare() -> None:
        async with PostgresJournal(pg.DSN, schema=schema, batch="alice-demo") as alice, \
                PostgresJournal(pg.DSN, schema=schema, batch="bob-demo") as bob:
            await alice.register(rows[:2])
            await alice.claim(rows[:2], "alice")
            for row in rows[:2]:
                await alice.finish(row.reference_id, JournalState.PAID, payout_id=row[0])
            await bob.register(rows[2:])  # bob's batch has not run yet

    try:
        anyio.run(prepare)
        forget = ["payouts", "forget", "--journal", pg.DSN, "--schema", schema]
        done = run(*forget, "--batch", "alice-demo")
        assert done.exit_code == 0, done.output
        assert done.stdout.strip() == "forgot 2 rows of batch 'alice-demo'"
        kept = run(*forget, "--batch", "bob-demo")
        assert kept.exit_code == 1
        assert "1 row of 1 not sent yet" in kept.stderr
        left = anyio.run(lambda: batch_status(pg.DSN, schema=schema))
        assert [(s.batch, s.rows) for s in left] == [("bob-demo", 1)]
        assert run(*forget, "--batch", "bob-demo", "--force").exit_code == 0
        assert anyio.run(lambda: batch_status(pg.DSN, schema=schema)) == []
    finally:
        with pg.psycopg.connect(pg.DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_readme_s_several_hosts_demo_names_its_batch_for_this_user_and_run() -> None:
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Several hosts, one batch", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines() if "ecartpay-async payouts" in line]
    assert commands
    assert all('--batch "$batch"' in line for line in commands)
    naming = next(line for line in section.splitlines() if line.startswith("batch="))
    assert "$(id -un)" in naming
    assert "$RANDOM" in naming
    assert any("payouts forget" in line for line in commands)
