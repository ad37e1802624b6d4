"""The PostgreSQL journal on a real server: claims, leases, takeover, status, failures."""

from __future__ import annotations

import uuid
from decimal import Decimal

import anyio
import pytest
from pg_helpers import (
    DSN,
    create_database,
    drop_database,
    pg_schema,
    terminate_journal_connections,
)

from ecartpay_async.batch import ClaimStatus, JournalRow, JournalState
from ecartpay_async.batch.postgres import PostgresJournal, batch_status
from ecartpay_async.errors import JournalError

pytestmark = pytest.mark.anyio
__all__ = ["pg_schema"]  # the fixture, imported for pytest


def rows(n: int, *, prefix: str = "r", digest: str = "fp") -> list[JournalRow]:
    return [JournalRow(f"{prefix}{i}", digest, Decimal("10.50"), "MXN") for i in range(n)]


async def test_two_workers_split_rows_and_see_each_others_results(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema, batch="b") as a, \
            PostgresJournal(DSN, schema=pg_schema, batch="b") as b:
        assert await a.register(rows(6)) == []
        assert await b.register(rows(6)) == []  # the same input from another host
        first = await a.claim(rows(4), "worker-a")
        assert [c.status for c in first] == [ClaimStatus.GRANTED] * 4
        assert all(c.entry is not None and c.entry.state is JournalState.PENDING for c in first)
        second = await b.claim(rows(6), "worker-b")
        assert [c.status for c in second] == [ClaimStatus.HELD] * 4 + [ClaimStatus.GRANTED] * 2
        await a.finish("r0", JournalState.PAID, payout_id="po_0", payout_status="paid")
        again = await b.claim(rows(2), "worker-b")
        assert again[0].status is ClaimStatus.REFUSED
        assert again[0].entry is not None
        assert again[0].entry.done
        assert again[0].entry.payout_id == "po_0"
        assert again[1].status is ClaimStatus.HELD
        # A worker's own live claim is a duplicate, not a second send.
        assert (await b.claim(rows(6)[4:5], "worker-b"))[0].status is ClaimStatus.REFUSED
        assert a.commits > 0
        assert a.statements >= a.commits


@pytest.mark.clock
async def test_an_expired_lease_is_taken_over_as_seen_before(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema, lease=0.4) as dead:
        await dead.register(rows(3))
        await dead.claim(rows(3), "dead")
    # The worker is gone; its renewer stopped with it. Its leases run out.
    async with PostgresJournal(DSN, schema=pg_schema, lease=0.4) as heir:
        assert {c.status for c in await heir.claim(rows(3), "heir")} == {ClaimStatus.HELD}
        await anyio.sleep(0.6)
        (status,) = await heir.status()
        assert [(h.worker, h.live, h.expired) for h in status.holders] == [("dead", 0, 3)]
        taken = await heir.claim(rows(3), "heir")
        assert [c.status for c in taken] == [ClaimStatus.GRANTED] * 3
        # As it was before the takeover: `sending` by the dead worker, so the batch
        # looks it up by reference_id before sending anything.
        assert all(c.entry and c.entry.state is JournalState.SENDING for c in taken)
        assert all(c.entry and c.entry.run_id == "dead" for c in taken)


@pytest.mark.clock
async def test_a_slow_live_worker_keeps_its_rows(pg_schema: str) -> None:
    # Leases long enough that a renewal held up by a busy machine (0.8 s) still lands.
    async with PostgresJournal(DSN, schema=pg_schema, lease=1.2) as slow, \
            PostgresJournal(DSN, schema=pg_schema, lease=1.2) as other:
        await slow.register(rows(2))
        await slow.claim(rows(2), "slow")
        for _ in range(4):  # three leases long: only the renewals keep the rows
            await anyio.sleep(0.9)
            assert {c.status for c in await other.claim(rows(2), "other")} == {ClaimStatus.HELD}
        await slow.finish("r0", JournalState.PAID, payout_id="po", payout_status="paid")
        await slow.finish("r1", JournalState.PENDING)  # put back: nothing went out
        claims = await other.claim(rows(2), "other")
        assert [c.status for c in claims] == [ClaimStatus.REFUSED, ClaimStatus.GRANTED]


async def test_a_row_failed_during_this_run_is_final_for_it(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema) as a, \
            PostgresJournal(DSN, schema=pg_schema) as b:
        await a.register(rows(2))
        await a.claim(rows(2), "a")
        await a.finish("r0", JournalState.FAILED, error="400 refused")
        await a.finish("r1", JournalState.SENDING, error="no answer")
        assert {c.status for c in await b.claim(rows(2), "b")} == {ClaimStatus.REFUSED}
    async with PostgresJournal(DSN, schema=pg_schema) as later:  # the next run retries
        assert {c.status for c in await later.claim(rows(2), "c")} == {ClaimStatus.GRANTED}


async def test_other_content_for_a_sent_reference_is_refused(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema) as journal:
        await journal.register(rows(2))
        await journal.claim(rows(1), "a")
        conflicts = await journal.register(rows(2, digest="changed"))
        assert [c.reference_id for c in conflicts] == ["r0"]  # r1 was still pending
        claims = await journal.claim(rows(2, digest="changed"), "b")
        assert claims[0].status is ClaimStatus.REFUSED  # r0: other content, never sent
        assert claims[1].status is ClaimStatus.GRANTED


async def test_two_batches_in_one_database_and_their_status(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema, batch="payroll") as payroll, \
            PostgresJournal(DSN, schema=pg_schema, batch="refunds") as refunds:
        await payroll.register(rows(3, prefix="p"))
        await refunds.register(rows(2, prefix="q"))
        await payroll.claim(rows(3, prefix="p")[:2], "w1")
        await payroll.finish("p0", JournalState.PAID, payout_id="po", payout_status="paid")
        await refunds.claim(rows(2, prefix="q"), "w2")
    statuses = {s.batch: s for s in await batch_status(DSN, schema=pg_schema)}
    assert set(statuses) == {"payroll", "refunds"}
    payroll_status = statuses["payroll"]
    assert payroll_status.rows == 3
    assert payroll_status.count(JournalState.PAID) == 1
    assert payroll_status.count(JournalState.PENDING) == 1
    paid = [t for t in payroll_status.totals if t.state is JournalState.PAID]
    assert paid[0].currency == "MXN"
    assert paid[0].amount == Decimal("10.50")
    assert [(h.worker, h.live) for h in payroll_status.holders] == [("w1", 1)]
    assert [(h.worker, h.live) for h in statuses["refunds"].holders] == [("w2", 2)]
    only = await batch_status(DSN, schema=pg_schema, batch="refunds")
    assert [s.batch for s in only] == ["refunds"]


async def test_an_unreachable_server_is_a_clear_error() -> None:
    journal = PostgresJournal("postgresql://ecartpay:secret@127.0.0.1:1/nowhere",
                              connect_timeout=2)
    with pytest.raises(JournalError) as caught:
        await journal.__aenter__()
    assert "cannot reach the journal postgresql://ecartpay@127.0.0.1:1/nowhere" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert "secret" not in repr(journal)


async def test_a_lost_connection_fails_one_call_and_the_next_reconnects(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema) as journal:
        await journal.register(rows(2))
        await anyio.to_thread.run_sync(terminate_journal_connections, pg_schema)
        with pytest.raises(JournalError, match="lost the connection to the journal"):
            await journal.claim(rows(1), "a")
        assert (await journal.claim(rows(2), "a"))[0].status is ClaimStatus.GRANTED


async def test_a_schema_of_another_version_is_refused(pg_schema: str) -> None:
    async with PostgresJournal(DSN, schema=pg_schema):
        pass
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'UPDATE "{pg_schema}".schema_version SET version = 99')
    with pytest.raises(JournalError, match="has format 99"):
        async with PostgresJournal(DSN, schema=pg_schema):
            pass


async def test_ending_this_runs_journals_spares_another_runs(pg_schema: str) -> None:
    """Two runs of the suite share the server: a test that kills its journals'
    connections (as a database restart would) leaves another run's alone."""
    other_run = f"ecartpay_test_{uuid.uuid4().hex[:10]}"  # named as another run names its own
    try:
        async with PostgresJournal(create_database(other_run), schema=pg_schema) as theirs, \
                PostgresJournal(DSN, schema=pg_schema) as ours:
            await theirs.register(rows(1))
            await ours.register(rows(1))
            assert await anyio.to_thread.run_sync(terminate_journal_connections, pg_schema) >= 1
            with pytest.raises(JournalError, match="lost the connection"):
                await ours.get("r0")
            # A killed connection fails the call that meets it: theirs was not killed.
            assert await theirs.get("r0") is not None
    finally:
        drop_database(other_run)
