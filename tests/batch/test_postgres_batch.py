"""Batches on the PostgreSQL journal: takeover with lookup, renewals, lost leases, labels."""

from __future__ import annotations

import anyio
import pytest
from batch_fakes import FakePayouts, make_requests
from pg_helpers import DSN, pg_database, pg_schema, terminate_journal_connections

from ecartpay_async.batch import Batch, JournalRow, JournalState, fingerprint, send_batch
from ecartpay_async.batch.postgres import PostgresJournal, batch_status

pytestmark = pytest.mark.anyio
__all__ = ["pg_database", "pg_schema"]  # the fixtures, imported for pytest


@pytest.mark.clock
async def test_a_dead_workers_rows_are_taken_over_after_a_lookup(pg_schema: str) -> None:
    requests = make_requests(30)
    fake = FakePayouts()
    # A worker claimed ten rows, sent six of them, and died (its lease runs out).
    async with PostgresJournal(DSN, schema=pg_schema, lease=0.5) as dead:
        rows = [JournalRow(r.reference_id or "", fingerprint(r)) for r in requests[:10]]
        await dead.claim(rows, "dead-worker")
    for request in requests[:6]:
        await fake.send(request)
    sends_before = fake.sends

    journal = PostgresJournal(DSN, schema=pg_schema, lease=0.5)
    report = await send_batch(fake, requests, journal=journal, concurrency=8)
    assert report.failed == report.not_attempted == 0
    assert report.recovered == 6  # found by reference_id, not sent again
    assert fake.lookups == 10  # every row taken over was looked up first
    assert fake.sends - sends_before == 24
    assert fake.duplicate_sends == 0
    assert len(fake.created) == 30


@pytest.mark.clock
async def test_two_workers_with_slow_sends_never_take_each_others_rows(pg_schema: str) -> None:
    requests = make_requests(24)
    # Each send lasts more than three leases; a lease outlasts a renewal held up by a
    # busy machine (0.6 s).
    fake = FakePayouts(delay=3.2)

    async def worker() -> Batch:
        journal = PostgresJournal(DSN, schema=pg_schema, lease=1.0)
        async with Batch(fake, requests, journal=journal, concurrency=24) as batch:
            pass
        return batch

    batches: list[Batch] = []

    async def run() -> None:
        batches.append(await worker())

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        group.start_soon(run)
    assert fake.duplicate_sends == 0
    assert fake.lookups == 0  # no row was ever taken over from a live worker
    assert len(fake.created) == 24
    assert sum(b.report.paid + b.report.pending for b in batches) == 24  # once each
    assert all(b.report.paid + b.report.pending + b.report.skipped == 24 for b in batches)


@pytest.mark.clock
async def test_leases_that_cannot_be_renewed_stop_the_sends_in_flight(pg_schema: str) -> None:
    requests = make_requests(8)
    fake = FakePayouts(delay=30.0)  # would still be in flight when the lease lapses
    journal = PostgresJournal(DSN, schema=pg_schema, lease=0.6)
    with anyio.fail_after(20):
        async with Batch(fake, requests, journal=journal, concurrency=8) as batch:
            for _ in range(1000):  # every row claimed and in flight
                if fake.in_flight == 8:
                    break
                await anyio.sleep(0.01)
            # The database goes away for good: no renewal can reach it.
            journal._dsn = "postgresql://postgres@127.0.0.1:1/gone"
            await anyio.to_thread.run_sync(terminate_journal_connections, pg_schema)
    assert batch.report.aborted
    assert "cannot renew the leases" in (batch.report.abort_reason or "")
    assert len(fake.created) == 0  # cancelled before another worker could take over


async def test_a_dsn_names_the_journal_and_labels_batches(pg_database: str) -> None:
    fake = FakePayouts()
    march, april = make_requests(5, prefix="march"), make_requests(3, prefix="april")
    await send_batch(fake, march, journal=pg_database, batch_label="march")
    await send_batch(fake, april, journal=pg_database, batch_label="april")
    again = await send_batch(fake, march, journal=pg_database, batch_label="march")
    assert again.skipped == 5
    statuses = {s.batch: s for s in await batch_status(pg_database)}
    assert statuses["march"].count(JournalState.PAID) + statuses["march"].count(
        JournalState.PENDING_CONFIRMATION) == 5
    assert statuses["april"].rows == 3
    assert fake.duplicate_sends == 0


@pytest.mark.clock
async def test_a_worker_frozen_for_a_whole_lease_stops(pg_schema: str) -> None:
    import time

    def freeze(request: object, call: int) -> None:  # FakePayouts' behaviour
        if call == 1:
            time.sleep(0.6)  # the whole process stops (the event loop with it)

    requests = make_requests(20)
    fake = FakePayouts(behaviour=freeze, delay=0.05)
    journal = PostgresJournal(DSN, schema=pg_schema, lease=0.4)
    report = await send_batch(fake, requests, journal=journal, concurrency=2)
    assert report.aborted
    assert "was not running for a whole lease" in (report.abort_reason or "")
    assert len(fake.created) < 20  # it stopped sending
    assert fake.duplicate_sends == 0


class _ChangesUnderfoot:
    """A finite input that reads fine twice (validation, registration), then fails
    after five rows, as a file replaced mid-run would."""

    def __init__(self, requests: list) -> None:  # type: ignore[type-arg]
        self.requests = requests
        self.reads = 0

    def __len__(self) -> int:
        return len(self.requests)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        for index, request in enumerate(self.requests):
            if self.reads == 3 and index == 5:
                raise OSError("the file changed")
            yield request


async def test_an_input_that_fails_mid_run_ends_the_claims_cleanly(pg_schema: str) -> None:
    fake = FakePayouts()
    source = _ChangesUnderfoot(make_requests(20))
    journal = PostgresJournal(DSN, schema=pg_schema)
    report = await send_batch(fake, source, journal=journal, concurrency=4)
    assert "reading the requests failed" in (report.abort_reason or "")
    assert len(fake.created) == 5  # the rows read before the failure, once each
    assert fake.duplicate_sends == 0
