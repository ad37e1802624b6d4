"""What a worker sharing a PostgreSQL journal says it did: rows another worker of the
same run finished are not "done by an earlier run", rows held elsewhere are counted
once each however often they are asked for, and payouts found made by a dead worker
are not "made here"."""

from __future__ import annotations

import io
from decimal import Decimal

import anyio
import pytest
from pg_helpers import DSN, pg_schema, psycopg
from rich.console import Console

from ecartpay_async import PayoutRequest
from ecartpay_async.batch import JournalRow, JournalState, fingerprint
from ecartpay_async.batch.postgres import PostgresJournal
from ecartpay_async.cli.display import BY_OTHER_WORKERS, Tally, render_worker, summary_table
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio
__all__ = ["pg_schema"]  # the fixture, imported for pytest

ROWS = 6


def requests(prefix: str) -> list[PayoutRequest]:
    return [PayoutRequest(email=f"seller{i}@example.com", reference_id=f"{prefix}-{i}",
                          amount=Decimal("10.50"), currency="MXN", require_confirmation=True)
            for i in range(ROWS)]


def journal_rows(batch: list[PayoutRequest]) -> list[JournalRow]:
    return [JournalRow(r.reference_id or "", fingerprint(r), r.amount, r.currency)
            for r in batch]


def shown(render: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(render)
    return console.export_text()


async def test_rows_a_peer_finishes_meanwhile_are_its_and_held_rows_count_once(
    pg_schema: str,
) -> None:
    batch = requests("peer")
    async with Sandbox() as sb, sb.client() as client, \
            PostgresJournal(DSN, schema=pg_schema, batch="b") as peer:
        await peer.register(journal_rows(batch))
        await peer.claim(journal_rows(batch), "peer-worker")  # all of them, live leases
        tally = Tally()
        here = client.payouts.batch(
            batch, journal=PostgresJournal(DSN, schema=pg_schema, batch="b"), concurrency=4)

        async def peer_finishes() -> None:
            # Once this worker found every row held, and asked again a few times, the
            # peer sends them and records them.
            while here.held_elsewhere < ROWS:  # noqa: ASYNC110 (a counter, no event)
                await anyio.sleep(0.05)
            await anyio.sleep(1.0)
            for request in batch:
                payout = await client.payouts.create(
                    email=request.email, reference_id=request.reference_id,
                    amount=request.amount, currency="MXN", require_confirmation=True)
                await peer.finish(request.reference_id or "", JournalState.PENDING_CONFIRMATION,
                                  payout_id=payout.id, payout_status="pending")

        async with anyio.create_task_group() as group:
            group.start_soon(peer_finishes)
            async with here:
                async for outcome in here:
                    tally.add(outcome)
    assert here.held_elsewhere == ROWS  # rows, not the rounds it asked for them
    assert tally.by_peer == ROWS
    table = shown(summary_table(here.report, tally))
    assert BY_OTHER_WORKERS in table
    assert "earlier run" not in table
    console = Console(width=200, record=True, file=io.StringIO())
    render_worker(console, here, tally)
    line = console.export_text()
    assert "0 payouts made here" in line
    assert f"{ROWS} rows found held by other workers" in line


async def test_payouts_found_made_by_a_dead_worker_are_not_made_here(pg_schema: str) -> None:
    batch = requests("dead")
    async with Sandbox() as sb, sb.client() as client:
        # A worker sent them, then died before recording the answers: its rows are
        # left `sending` under a lease that has expired.
        for request in batch:
            await client.payouts.create(
                email=request.email, reference_id=request.reference_id, amount=request.amount,
                currency="MXN", require_confirmation=True)
        async with PostgresJournal(DSN, schema=pg_schema, batch="b") as dead:
            await dead.register(journal_rows(batch))
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{pg_schema}".payouts SET state = \'sending\', worker = \'dead:1:x\', '
                "lease_until = clock_timestamp() - interval '1 minute'")
        tally = Tally()
        here = client.payouts.batch(
            batch, journal=PostgresJournal(DSN, schema=pg_schema, batch="b"), concurrency=4)
        async with here:
            async for outcome in here:
                tally.add(outcome)
        assert len(sb.state.payouts()) == ROWS  # taken over, looked up: none sent again
    # Found made under their reference_ids: counted as done before this run, never as new.
    assert here.report.skipped == ROWS
    console = Console(width=200, record=True, file=io.StringIO())
    render_worker(console, here, tally)
    line = console.export_text()
    assert line.startswith("worker ")
    assert ": 0 payouts made here" in line
