"""The engine's logic against an in-memory fake of ``client.payouts``."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from batch_fakes import FakePayouts, make_requests

from ecartpay_async.batch import (
    Batch,
    BatchValidationError,
    BreakerConfig,
    OutcomeStatus,
    SQLiteJournal,
    send_batch,
)
from ecartpay_async.batch.journal import JournalState
from ecartpay_async.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    BatchAbortedError,
    InternalServerError,
    JournalError,
    ValidationError,
)
from ecartpay_async.models.payouts import PayoutRequest

pytestmark = pytest.mark.anyio


async def collect(batch: Batch) -> list:
    outcomes = []
    async with batch:
        async for outcome in batch:
            outcomes.append(outcome)
    return outcomes


async def test_every_row_reported_once_with_exact_totals() -> None:
    fake = FakePayouts()
    requests = make_requests(300)
    outcomes = await collect(Batch(fake, requests, concurrency=8))
    assert sorted(o.row for o in outcomes) == list(range(1, 301))
    by_row = {o.row: o for o in outcomes}
    for row, request in enumerate(requests, 1):
        assert by_row[row].request == request
        expected = OutcomeStatus.PENDING if request.require_confirmation else OutcomeStatus.PAID
        assert by_row[row].status is expected
        assert by_row[row].payout is not None
        assert by_row[row].payout.amount == request.amount
    report = await send_batch(FakePayouts(), requests, concurrency=8)
    assert report.total == 300
    assert report.paid == 270
    assert report.pending == 30
    paid_total = sum(r.amount for r in requests if not r.require_confirmation)
    assert report.totals("paid") == {"MXN": paid_total}
    assert isinstance(report.totals("paid")["MXN"], Decimal)
    assert report.ok
    assert report.attempts == 300
    assert report.retries == 0
    assert report.latency_p50 is not None


async def test_mappings_and_async_iterables_are_accepted() -> None:
    rows = [
        {"email": "ana@example.com", "amount": "10.50", "currency": "MXN", "reference_id": "a"},
        {"email": "beto@example.com", "amount": 7, "currency": "usd", "reference_id": "b"},
    ]

    async def stream() -> AsyncIterator[dict]:
        for row in rows:
            yield row

    fake = FakePayouts()
    report = await send_batch(fake, stream())
    assert report.paid == 2
    assert report.totals("paid") == {"MXN": Decimal("10.50"), "USD": Decimal("7.00")}
    assert fake.created["b"].currency == "USD"


async def test_a_finite_input_with_bad_rows_is_refused_whole() -> None:
    fake = FakePayouts()
    rows: list[object] = [
        {"email": "ana@example.com", "amount": "10", "currency": "MXN", "reference_id": "r1"},
        {"email": "not-an-email", "amount": "10", "currency": "MXN", "reference_id": "r2"},
        {"email": "c@example.com", "amount": "0", "currency": "MXN", "reference_id": "r3"},
        {"email": "d@example.com", "amount": "1.005", "currency": "MXN", "reference_id": "r4"},
        {"email": "e@example.com", "amount": "NaN", "currency": "MXN", "reference_id": "r5"},
        {"email": "f@example.com", "amount": "5", "currency": "XXX", "reference_id": "r6"},
        {"email": "g@example.com", "amount": "5", "currency": "MXN", "reference_id": "r1"},
        {"email": "h@example.com", "amount": "5", "currency": "MXN"},
        "just a string",
    ]
    with pytest.raises(BatchValidationError) as info:
        await send_batch(fake, rows)
    problems = {(p.row, p.field) for p in info.value.problems}
    assert problems == {
        (2, "email"), (3, "amount"), (4, "amount"), (5, "amount"), (6, "currency"),
        (7, "reference_id"), (8, "reference_id"), (9, "row"),
    }
    assert "nothing was sent" in str(info.value)
    assert "row 7: reference_id: duplicate 'r1' (first seen on row 1)" in str(info.value)
    assert fake.sends == 0


async def test_unbounded_source_turns_bad_rows_into_failed_outcomes() -> None:
    def generate() -> Iterator[object]:
        yield {"email": "a@example.com", "amount": "1", "currency": "MXN", "reference_id": "1"}
        yield {"email": "b@example.com", "amount": "-1", "currency": "MXN", "reference_id": "2"}
        yield {"email": "c@example.com", "amount": "3", "currency": "MXN", "reference_id": "3"}

    outcomes = await collect(Batch(FakePayouts(), generate()))
    status = {o.row: o.status for o in outcomes}
    assert status == {1: OutcomeStatus.PAID, 2: OutcomeStatus.FAILED, 3: OutcomeStatus.PAID}
    bad = next(o for o in outcomes if o.row == 2)
    assert isinstance(bad.error, ValidationError)
    assert bad.request is None
    assert "row 2" in str(bad.error)


async def test_concurrency_is_a_ceiling() -> None:
    fake = FakePayouts(delay=0.001)
    await send_batch(fake, make_requests(200), concurrency=5)
    assert 1 < fake.max_in_flight <= 5


async def test_a_fatal_error_stops_new_sends_and_marks_the_rest() -> None:
    def behaviour(request: PayoutRequest, call: int) -> BaseException | None:
        if call == 20:
            return AuthenticationError("bad keys", status_code=401, method="POST",
                                       path="/api/payouts")
        return None

    fake = FakePayouts(behaviour, delay=0.001)
    outcomes = await collect(Batch(fake, make_requests(200), concurrency=4))
    report_counts: dict[OutcomeStatus, int] = {}
    for o in outcomes:
        report_counts[o.status] = report_counts.get(o.status, 0) + 1
    assert len(outcomes) == 200
    assert report_counts[OutcomeStatus.FAILED] == 1
    assert report_counts[OutcomeStatus.NOT_ATTEMPTED] >= 170
    assert fake.sends < 30  # in-flight ones finished, nothing new started
    skipped = [o for o in outcomes if o.status is OutcomeStatus.NOT_ATTEMPTED]
    assert all(isinstance(o.error, BatchAbortedError) for o in skipped)


async def test_insufficient_balance_is_fatal_and_reported() -> None:
    def behaviour(request: PayoutRequest, call: int) -> BaseException | None:
        return BadRequestError("insufficient balance in MXN", status_code=400)

    batch = Batch(FakePayouts(behaviour), make_requests(50), concurrency=1)
    await collect(batch)
    report = batch.report
    assert report.aborted
    assert "insufficient balance" in (report.abort_reason or "")
    assert report.failed == 1
    assert report.not_attempted == 49
    with pytest.raises(BatchAbortedError):
        report.raise_if_aborted()


async def test_the_breaker_trips_on_a_storm_of_failures() -> None:
    def behaviour(request: PayoutRequest, call: int) -> BaseException | None:
        return InternalServerError("down", status_code=500) if call % 4 else None

    batch = Batch(FakePayouts(behaviour), make_requests(500), concurrency=4,
                  breaker=BreakerConfig(window=20, threshold=0.5))
    await collect(batch)
    report = batch.report
    assert report.abort_reason is not None
    assert report.abort_reason.startswith("circuit breaker: ")
    assert report.total == 500
    assert report.not_attempted > 400
    assert len(report.failures) == report.failed


async def test_without_a_breaker_every_row_is_tried() -> None:
    def behaviour(request: PayoutRequest, call: int) -> BaseException | None:
        return InternalServerError("down", status_code=500)

    report = await send_batch(FakePayouts(behaviour), make_requests(100), breaker=None)
    assert report.failed == 100
    assert not report.aborted
    assert {f.error_type for f in report.failures} == {"InternalServerError"}


async def test_stop_by_the_caller() -> None:
    batch = Batch(FakePayouts(delay=0.001), make_requests(300), concurrency=2)
    seen = 0
    async with batch:
        async for _ in batch:
            seen += 1
            if seen == 10:
                batch.stop()
    assert batch.report.total == 300
    assert batch.report.not_attempted > 250
    assert batch.report.abort_reason == "stopped by the caller"


async def test_memory_stays_flat_for_a_long_generator() -> None:
    def generate(n: int) -> Iterator[PayoutRequest]:
        for i in range(n):
            yield PayoutRequest(email=f"p{i}@example.com", reference_id=f"ref-{i}",
                                amount=Decimal("1.00"), currency="MXN")

    class Forgetful(FakePayouts):
        async def send(self, request: PayoutRequest, **kwargs: object):  # type: ignore[override]
            result = await super().send(request, **kwargs)  # type: ignore[arg-type]
            self.created.clear()  # the fake's own memory is not under test
            return result

    async def run(n: int) -> int:
        tracemalloc.start()
        try:
            batch = Batch(Forgetful(), generate(n), concurrency=16)
            async with batch:
                async for _ in batch:
                    pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = await run(500)
    large = await run(5_000)
    # Ten times the rows: the peak must not grow with them (a list of outcomes would).
    assert large < small * 1.5 + 100_000


async def test_cancelling_the_scope_leaves_a_journal_that_resumes(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(400)
    fake = FakePayouts(delay=0.001)
    seen = 0
    with anyio.CancelScope() as scope:
        async with Batch(fake, requests, concurrency=16, journal=journal) as batch:
            async for _ in batch:
                seen += 1
                if seen == 100:
                    scope.cancel()
    assert scope.cancelled_caught
    assert batch.report.abort_reason == "cancelled"
    sent_before = fake.sends
    assert 100 <= sent_before < 400

    async with SQLiteJournal(journal) as j:
        counts = await j.counts()
    done = counts.get(JournalState.PAID, 0) + counts.get(JournalState.PENDING_CONFIRMATION, 0)
    assert done >= 100  # every outcome yielded was durable first
    # At most one per worker (twice the concurrency with a journal): the rows in
    # flight, and those claimed and waiting for a send slot when the cancel came.
    assert counts.get(JournalState.SENDING, 0) <= 32

    report = await send_batch(fake, requests, concurrency=16, journal=journal)
    assert report.total == 400
    assert report.failed == 0
    # Already paid earlier: the rows the journal shows done, and those left `sending`
    # that the lookup found made.
    assert report.skipped == done + report.recovered
    assert len(fake.created) == 400
    assert fake.duplicate_sends == 0  # no payout that existed was sent again


async def test_rows_sent_before_are_looked_up_not_resent(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(20)
    fake = FakePayouts()
    # A previous run that died after sending: its rows are `sending` in the journal.
    async with SQLiteJournal(journal) as j:
        for request in requests[:10]:
            from ecartpay_async.batch import fingerprint

            await j.begin(request.reference_id, fingerprint(request), "old-run")  # type: ignore[arg-type]
    for request in requests[:5]:  # five of them reached the API
        await fake.send(request)
    sends_before = fake.sends

    report = await send_batch(fake, requests, journal=journal)
    assert report.recovered == 5
    assert fake.sends - sends_before == 15
    assert fake.lookups == 10
    assert len(fake.created) == 20


async def test_ambiguous_failures_stay_sending_refusals_are_failed(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"

    def behaviour(request: PayoutRequest, call: int) -> BaseException | None:
        if request.reference_id.endswith("1"):  # type: ignore[union-attr]
            return APIConnectionError("reset", method="POST", path="/api/payouts")
        if request.reference_id.endswith("2"):  # type: ignore[union-attr]
            return BadRequestError("recipient refused", status_code=400)
        return None

    requests = make_requests(10)
    report = await send_batch(FakePayouts(behaviour), requests, journal=journal, breaker=None)
    assert report.failed == 2
    async with SQLiteJournal(journal) as j:
        assert (await j.get("payroll-2026-11-0001")).state is JournalState.SENDING  # type: ignore[union-attr]
        refused = await j.get("payroll-2026-11-0002")
        assert refused is not None
        assert refused.state is JournalState.FAILED
        assert refused.error is not None
        assert "recipient refused" in refused.error
        assert (await j.get("payroll-2026-11-0003")).state is JournalState.PAID  # type: ignore[union-attr]


async def test_a_changed_row_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(10)
    await send_batch(FakePayouts(), requests, journal=journal)
    changed = list(requests)
    changed[3] = PayoutRequest(email="someone.else@example.com", amount=Decimal("5"),
                               currency="MXN", reference_id=requests[3].reference_id)
    fake = FakePayouts()
    with pytest.raises(JournalError) as info:
        await send_batch(fake, changed, journal=journal)
    assert "row 4" in str(info.value)
    assert "payroll-2026-11-0004" in str(info.value)
    assert fake.sends == 0


async def test_a_changed_row_from_a_generator_stops_the_batch(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(5)
    await send_batch(FakePayouts(), requests[:3], journal=journal)
    changed = [*requests[:2], PayoutRequest(email="x@example.com", amount="9", currency="MXN",
                                             reference_id=requests[2].reference_id)]
    report = await send_batch(FakePayouts(), iter([*changed, *requests[3:]]), journal=journal,
                              concurrency=1)
    assert report.aborted
    assert "different recipient" in (report.abort_reason or "")


async def test_a_done_journal_skips_everything(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(50)
    await send_batch(FakePayouts(), requests, journal=journal)
    fake = FakePayouts()
    batch = Batch(fake, requests, journal=journal)
    outcomes = await collect(batch)
    assert {o.status for o in outcomes} == {OutcomeStatus.SKIPPED}
    assert all(o.payout is not None and o.payout.id for o in outcomes)
    assert fake.sends == 0
    assert fake.lookups == 0
    assert batch.report.totals("skipped")["MXN"] == sum(r.amount for r in requests)


async def test_duplicates_in_an_unbounded_source_with_a_journal_are_caught(
    tmp_path: Path,
) -> None:
    requests = make_requests(3)
    fake = FakePayouts()
    report = await send_batch(fake, iter([*requests, requests[0]]), journal=tmp_path / "j.db",
                              concurrency=1)
    assert report.paid == 3
    assert report.failed == 1
    assert "duplicate" in report.failures[0].reason
    assert fake.sends == 3


async def test_a_source_that_breaks_stops_the_batch() -> None:
    def generate() -> Iterator[PayoutRequest]:
        yield from make_requests(5)
        raise OSError("disk gone")

    report = await send_batch(FakePayouts(), generate())
    assert report.paid == 5
    assert report.abort_reason is not None
    assert "disk gone" in report.abort_reason


async def test_a_source_that_fails_once_and_would_go_on_still_ends_the_batch() -> None:
    class Flaky:  # as csv.reader does: an error on one line, then the next lines
        def __init__(self) -> None:
            self.rows = iter(make_requests(10))
            self.pulled = 0

        def __iter__(self) -> Flaky:
            return self

        def __next__(self) -> PayoutRequest:
            self.pulled += 1
            if self.pulled == 4:
                raise ValueError("line 4 is not CSV")
            return next(self.rows)

    source = Flaky()
    report = await send_batch(FakePayouts(), source, concurrency=4)
    assert report.paid == 3  # the rows before the failure, and nothing after it
    assert source.pulled == 4
    assert "line 4 is not CSV" in (report.abort_reason or "")


async def test_a_batch_runs_once() -> None:
    batch = Batch(FakePayouts(), make_requests(2))
    await collect(batch)
    with pytest.raises(RuntimeError):
        async with batch:
            pass


async def test_iterating_outside_the_block_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        async for _ in Batch(FakePayouts(), make_requests(1)):
            pass


async def test_a_fresh_journal_looks_nothing_up(tmp_path: Path) -> None:
    fake = FakePayouts()
    report = await send_batch(fake, make_requests(30), journal=tmp_path / "new.db")
    assert report.paid + report.pending == 30
    assert fake.lookups == 0


async def test_a_journal_deleted_mid_batch_stops_it_and_the_resume_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "run.db"
    requests = make_requests(300)
    fake = FakePayouts(delay=0.001)
    seen = 0
    async with Batch(fake, requests, concurrency=8, journal=journal) as batch:
        async for _ in batch:
            seen += 1
            if seen == 50:
                journal.unlink()
    report = batch.report
    assert report.aborted
    assert "was deleted" in (report.abort_reason or "")
    assert report.not_attempted > 200
    assert isinstance(report.abort_error, JournalError)
    sent = len(fake.created)

    resumed = await send_batch(fake, requests, concurrency=8, journal=journal)
    assert resumed.failed == 0
    assert len(fake.created) == 300
    assert fake.duplicate_sends == 0  # no payout that existed was sent again
    assert resumed.skipped + resumed.recovered >= sent


async def test_with_a_journal_concurrency_is_still_a_ceiling(tmp_path: Path) -> None:
    # Twice as many workers wait for the journal's commits; sends still take a slot.
    fake = FakePayouts(delay=0.002)
    report = await send_batch(fake, make_requests(200), concurrency=5,
                              journal=tmp_path / "j.db")
    assert report.paid + report.pending == 200
    assert 1 < fake.max_in_flight <= 5
