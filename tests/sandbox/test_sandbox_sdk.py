"""The SDK against the sandbox over a real loopback socket (and once in-process)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import anyio
import httpx
import pytest

from ecartpay_async import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AsyncClient,
    IdempotencyConflictError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from ecartpay_async.sandbox import Sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end(backend="trio")]

FAST = RetryPolicy(max_retries=10, initial_delay=0.01, max_delay=0.05)


def client_for(sb: Sandbox, **options: object) -> AsyncClient:
    options.setdefault("retry_policy", FAST)
    options.setdefault("max_retries", FAST.max_retries)
    return sb.client(**options)


@pytest.mark.clock
async def test_create_list_update_confirm(sb: Sandbox) -> None:
    async with client_for(sb) as client:
        paid = await client.payouts.create(
            email="ana@example.com", reference_id="p-1", amount=Decimal("1250.00"), currency="MXN"
        )
        assert paid.status == "paid"
        assert paid.amount == Decimal("1250.00")
        assert (await client.payouts.retrieve(paid.id)).reference_id == "p-1"
        pending = await client.payouts.create(
            email="bo@example.com",
            reference_id="p-2",
            amount=Decimal("10"),
            currency="MXN",
            require_confirmation=True,
        )
        assert pending.status == "pending"
        updated = await client.payouts.update(
            pending.id, amount=Decimal("12.34"), order_id="625cb5aa8541531b52506de8"
        )
        assert updated.amount == Decimal("12.34")
        assert [p.reference_id async for p in client.payouts.list(status="pending")] == ["p-2"]
        later = datetime(2100, 1, 1, tzinfo=timezone.utc)
        scheduled = await client.payouts.confirm(pending.id, available_at=later)
        assert scheduled.status == "pending"
        assert scheduled.available_at == later
        sb.state.advance_clock(100 * 366 * 86400)  # expires the token too: the SDK renews it
        assert (await client.payouts.retrieve(pending.id)).status == "paid"
        found = await client.payouts.find_by_reference("p-2")
        assert found is not None
        assert found.id == pending.id
        assert await client.payouts.find_by_reference("p") is None


@pytest.mark.parametrize("shape", ["envelope", "array"])
async def test_list_pages_in_both_shapes(shape: str) -> None:
    with Sandbox(list_shape=shape) as sb:  # type: ignore[arg-type]
        async with client_for(sb) as client:
            for n in range(5):
                await client.payouts.create(
                    email=f"p{n}@example.com", reference_id=f"r{n}", amount=1, currency="MXN"
                )
            listed = [p.reference_id async for p in client.payouts.list(limit=2)]
    assert sorted(listed) == [f"r{n}" for n in range(5)]


async def test_balances_to_the_cent() -> None:
    with Sandbox(balances={"MXN": "1000.00", "CLP": "5000"}) as sb:
        async with client_for(sb) as client:
            amounts = [Decimal("0.01"), Decimal("333.33"), Decimal("99.99"), Decimal("0.10")]
            for n, amount in enumerate(amounts):
                await client.payouts.create(
                    email="ana@example.com", reference_id=f"c{n}", amount=amount, currency="MXN"
                )
            held = await client.payouts.create(
                email="bo@example.com",
                reference_id="held",
                amount=Decimal("100.00"),
                currency="MXN",
                require_confirmation=True,
            )
            await client.payouts.update(held.id, amount=Decimal("66.67"))
            await client.payouts.confirm(held.id)
            await client.payouts.create(
                email="bo@example.com", reference_id="clp", amount=4999, currency="CLP"
            )
    merchant = sb.state.merchant.email
    assert sb.state.balance("ana@example.com", "MXN") == Decimal("433.43")
    assert sb.state.balance("bo@example.com", "MXN") == Decimal("66.67")
    assert sb.state.balance(merchant, "MXN") == Decimal("1000.00") - Decimal("433.43") - Decimal(
        "66.67"
    )
    assert sb.state.balance(merchant, "CLP") == Decimal("1")
    assert sb.state.balance("bo@example.com", "CLP") == Decimal("4999")


@pytest.mark.parametrize("behavior", ["reject_400", "reject_409", "return_original"])
async def test_reused_reference_never_pays_twice(behavior: str) -> None:
    with Sandbox(reuse_behavior=behavior) as sb:  # type: ignore[arg-type]
        async with client_for(sb) as client:
            first = await client.payouts.create(
                email="ana@example.com",
                reference_id="once",
                amount=Decimal("50.00"),
                currency="MXN",
            )
            again = await client.payouts.create(
                email="ana@example.com",
                reference_id="once",
                amount=Decimal("50.00"),
                currency="MXN",
            )
            assert again.id == first.id
            with pytest.raises(IdempotencyConflictError) as conflict:
                await client.payouts.create(
                    email="ana@example.com",
                    reference_id="once",
                    amount=Decimal("60.00"),
                    currency="MXN",
                )
            assert conflict.value.differences == [("amount", Decimal("60.00"), Decimal("50.00"))]
    assert len(sb.state.payouts()) == 1
    assert sb.state.balance("ana@example.com", "MXN") == Decimal("50.00")


@pytest.mark.ecartpay_sandbox(token_ttl=2)
async def test_short_token_lifetime_in_a_longer_run(ecartpay_sandbox: Sandbox) -> None:
    sb = ecartpay_sandbox
    created = 0
    async with client_for(sb, max_retries=0) as client:

        async def worker(number: int) -> None:
            nonlocal created
            while sb.state.tokens_issued < 3:  # runs across at least two expiries
                await client.payouts.create(
                    email="ana@example.com",
                    amount=1,
                    currency="MXN",
                    reference_id=f"t{number}-{created}",
                )
                created += 1
                await anyio.sleep(0.05)

        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:
                for number in range(4):
                    tg.start_soon(worker, number)
    assert len(sb.state.payouts()) == created


ERRORS = [
    ("reset", APIConnectionError),
    ("drop_after_commit", APIConnectionError),
    ("slow_after_commit", APITimeoutError),
    ("truncated", APIResponseError),
    ("500", InternalServerError),
    ("502", InternalServerError),
    ("503", InternalServerError),
    ("429", RateLimitError),
    ("500_after_commit", InternalServerError),
]


@pytest.mark.parametrize(("kind", "error"), ERRORS)
async def test_each_fault_is_a_typed_error(sb: Sandbox, kind: str, error: type[Exception]) -> None:
    sb.faults.configure({"payouts.create": {kind: 1, "retry_after": 0, "slow_ms": 30_000}})
    # A short deadline for the create alone (the slow fault must time out): the token
    # request keeps the client's, so a loaded machine cannot time it out instead.
    async with client_for(sb, max_retries=0) as client:
        with pytest.raises(error) as raised:
            await client.payouts.create(
                email="ana@example.com", reference_id="x", amount=1, currency="MXN",
                timeout=0.3 if kind.startswith("slow") else None,
            )
    assert type(raised.value) is error
    if kind == "502":
        assert "Bad Gateway" in str(raised.value)
    if kind == "429":
        assert raised.value.retry_after == 0  # type: ignore[attr-defined]
    if isinstance(raised.value, APIConnectionError):
        assert raised.value.maybe_processed


@pytest.mark.parametrize("kind", [kind for kind, _ in ERRORS])
async def test_each_fault_is_recovered_exactly_once(sb: Sandbox, kind: str) -> None:
    sb.faults.configure(
        {"payouts.create": {kind: 0.5, "retry_after": 0, "slow_ms": 30_000}}, seed=11
    )
    async with client_for(sb, timeout=0.5) as client, anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(
                lambda n=n: client.payouts.create(
                    email=f"p{n}@example.com", reference_id=f"r{n}", amount=1, currency="MXN"
                )
            )
    assert sb.faults.counts[kind] > 0
    assert Counter(p.reference_id for p in sb.state.payouts()) == {f"r{n}": 1 for n in range(8)}


CHAOS = (
    "5xx=0.09,429=0.03,reset=0.04,drop_after_commit=0.05,slow_after_commit=0.01,"
    "500_after_commit=0.03,truncated=0.03,retry_after=0,slow_ms=3000,jitter_ms=3"
)


# The SDK's own stack, a user's httpx client, a user's httpx2 client (over loopback).
STACKS = ["default", "httpx", "httpx2"]


@pytest.mark.parametrize("stack", STACKS)
async def test_hundreds_of_concurrent_payouts_under_all_faults_land_once(stack: str) -> None:
    count = 300
    with Sandbox(faults=CHAOS, seed=2026) as sb:
        results: dict[str, str] = {}
        policy = RetryPolicy(max_retries=15, initial_delay=0.01, max_delay=0.05)
        options: dict[str, object] = {}
        if stack == "httpx":
            options["http_client"] = httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
        elif stack == "httpx2":
            import httpx2

            options["http_client"] = httpx2.AsyncClient(
                limits=httpx2.Limits(max_connections=64)
            )
        async with sb.client(
            retry_policy=policy, max_retries=15, timeout=1.0, **options
        ) as client:

            async def pay(n: int) -> None:
                payout = await client.payouts.create(
                    email=f"worker{n % 37}@example.com",
                    reference_id=f"chaos-{n}",
                    amount=Decimal(n % 50 + 1) / 4,
                    currency="MXN",
                )
                results[f"chaos-{n}"] = payout.id

            with anyio.fail_after(45):
                async with anyio.create_task_group() as tg:
                    for n in range(count):
                        tg.start_soon(pay, n)
        lent = options.get("http_client")
        if lent is not None:
            await lent.aclose()  # type: ignore[attr-defined]
        payouts = sb.state.payouts()
        injected = sb.faults.counts
    assert len(results) == count
    assert Counter(p.reference_id for p in payouts) == {f"chaos-{n}": 1 for n in range(count)}
    assert {p.reference_id: p.id for p in payouts} == results
    assert all(
        injected[kind]
        for kind in ("500", "429", "reset", "drop_after_commit", "500_after_commit", "truncated")
    )
    total = sum((Decimal(n % 50 + 1) / 4 for n in range(count)), Decimal(0))
    received = sum(
        (sb.state.balance(f"worker{w}@example.com", "MXN") for w in range(37)), Decimal(0)
    )
    assert received == total


async def test_in_process_client() -> None:
    async with Sandbox(in_process=True) as sb, client_for(sb) as client:
        payout = await client.payouts.create(
            email="ana@example.com", reference_id="ip", amount=Decimal("1.50"), currency="MXN"
        )
        assert [p.id async for p in client.payouts.list()] == [payout.id]
