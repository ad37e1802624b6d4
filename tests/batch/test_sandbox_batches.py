"""Batches against the sandbox emulator over loopback: chaos, short tokens, cancel + resume."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from batch_fakes import assert_paid_exactly_once, make_requests, watch_reuses

from ecartpay_async import AsyncClient
from ecartpay_async.batch import OutcomeStatus
from ecartpay_async.sandbox import Sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end]

# The fault mix. Retry-After is shortened from the sandbox's 1 s so that the
# test stays CI-sized: every 429/503 still pauses the whole client, just briefly.
CHAOS = "5xx=0.1,429=0.05,reset=0.03,drop_after_commit=0.03,retry_after=0.05"


@pytest.mark.slow
async def test_chaos_pays_every_row_once(tmp_path: Path) -> None:
    requests = make_requests(2000, prefix="chaos")
    async with Sandbox(faults=CHAOS, seed=7) as sandbox:
        reused = watch_reuses(sandbox)
        payout_of_row: dict[int, str] = {}
        async with sandbox.client() as client, client.payouts.batch(
            requests, concurrency=64, journal=tmp_path / "chaos.db"
        ) as batch:
            async for outcome in batch:
                assert outcome.row not in payout_of_row  # each row reported once
                assert outcome.payout is not None, outcome.error
                assert outcome.payout.reference_id == outcome.reference_id
                payout_of_row[outcome.row] = outcome.payout.id
        report = batch.report
        assert_paid_exactly_once(sandbox, requests)
        assert reused == []
        assert set(payout_of_row.values()) == {p.id for p in sandbox.state.payouts()}
        faults = dict(sandbox.faults.counts)
    assert report.total == 2000
    assert report.paid + report.pending == 2000, report.failures[:5]
    assert report.pending == 200
    assert report.totals("paid")["MXN"] + report.totals("pending")["MXN"] == sum(
        r.amount for r in requests
    )
    # The faults really happened, and were absorbed by retries and lookups.
    assert faults.get("drop_after_commit", 0) > 0
    assert faults.get("429", 0) > 0
    assert report.retries > 0
    assert report.recovered > 0


@pytest.mark.clock
async def test_tokens_that_expire_every_two_seconds_cause_no_failure() -> None:
    requests = make_requests(400, prefix="ttl")
    async with Sandbox(token_ttl=2) as sandbox:
        async with sandbox.client() as client:
            # Spread the sends over about three seconds: the token expires mid-batch.
            report = await client.payouts.send_batch(requests, concurrency=16, rate_limit=130)
        assert_paid_exactly_once(sandbox, requests)
        assert sandbox.state.tokens_issued >= 2
    assert report.failed == 0
    assert report.paid + report.pending == 400


async def test_cancelling_mid_batch_then_resuming_pays_each_row_once(tmp_path: Path) -> None:
    journal = tmp_path / "cancel.db"
    requests = make_requests(300, prefix="cancel")
    async with Sandbox(faults="drop_after_commit=0.05,500=0.05,retry_after=0.05", seed=3
                       ) as sandbox:
        reused = watch_reuses(sandbox)
        async with sandbox.client() as client:
            seen = 0
            with anyio.CancelScope() as scope:
                async with client.payouts.batch(requests, concurrency=32, journal=journal) as b:
                    async for _ in b:
                        seen += 1
                        if seen == 80:
                            scope.cancel()
            assert b.report.abort_reason == "cancelled"
            assert len(sandbox.state.payouts()) < 300
            report = await client.payouts.send_batch(requests, concurrency=32, journal=journal)
        assert_paid_exactly_once(sandbox, requests)
        assert reused == []
    assert report.skipped >= 80
    assert report.skipped + report.paid + report.pending == 300
    assert report.failed == 0


async def test_a_batch_that_runs_out_of_money_stops_with_a_reason() -> None:
    requests = make_requests(100, prefix="broke")  # about 15,000 MXN in all
    async with Sandbox(balances={"MXN": "2000.00"}) as sandbox:
        async with sandbox.client() as client:
            batch = client.payouts.batch(requests, concurrency=4)
            async with batch:
                outcomes = [o async for o in batch]
        paid = len(sandbox.state.payouts())
    report = batch.report
    assert report.aborted
    assert "insufficient balance" in (report.abort_reason or "")
    assert report.not_attempted > 0
    assert report.paid + report.pending == paid
    assert report.total == len(outcomes) == 100
    assert {o.status for o in outcomes} >= {OutcomeStatus.FAILED, OutcomeStatus.NOT_ATTEMPTED}


async def test_refused_credentials_stop_the_batch() -> None:
    async with Sandbox() as sandbox:
        wrong = AsyncClient(public_key=sandbox.public_key, private_key="wrong",
                            base_url=sandbox.base_url)
        async with wrong as client:
            report = await client.payouts.send_batch(make_requests(20), concurrency=4)
        assert sandbox.state.payouts() == []
    assert report.aborted
    assert "AuthenticationError" in (report.abort_reason or "")
    assert report.not_attempted >= 16
    assert "wrong" not in (report.abort_reason or "")
