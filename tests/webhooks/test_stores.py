"""The delivery stores: claim, complete, release, leases; SQLite across reopenings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from ecartpay_async.webhooks import (
    Claim,
    DeliveryStore,
    MemoryDeliveryStore,
    SQLiteDeliveryStore,
)

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path
               ) -> Callable[[Clock], DeliveryStore]:
    def make(clock: Clock) -> DeliveryStore:
        if request.param == "memory":
            return MemoryDeliveryStore(clock=clock)
        return SQLiteDeliveryStore(tmp_path / "hooks.db", clock=clock)

    return make


async def test_claim_complete_and_duplicate(make_store):
    store = make_store(Clock())
    assert isinstance(store, DeliveryStore)
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED
    assert await store.claim("wh_1", lease=10) is Claim.BUSY
    await store.complete("wh_1")
    assert await store.claim("wh_1", lease=10) is Claim.DONE
    assert await store.claim("wh_2", lease=10) is Claim.CLAIMED


async def test_release_lets_the_retry_claim_again(make_store):
    store = make_store(Clock())
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED
    await store.release("wh_1")
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED


async def test_a_lapsed_lease_is_taken_over(make_store):
    clock = Clock()
    store = make_store(clock)
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED  # a worker that then died
    clock.now += 9
    assert await store.claim("wh_1", lease=10) is Claim.BUSY
    clock.now += 2
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED


async def test_a_renewed_claim_outlives_its_first_lease(make_store):
    clock = Clock()
    store = make_store(clock)
    assert await store.claim("wh_1", lease=10) is Claim.CLAIMED
    clock.now += 9
    await store.renew("wh_1", lease=10)  # the handlers still run: the receiver renews
    clock.now += 9
    assert await store.claim("wh_1", lease=10) is Claim.BUSY
    await store.complete("wh_1")
    await store.renew("wh_1", lease=10)  # too late to matter: never undoes "done"
    assert await store.claim("wh_1", lease=10) is Claim.DONE
    await store.renew("wh_never", lease=10)  # nothing to renew: no claim appears
    assert await store.claim("wh_never", lease=10) is Claim.CLAIMED


async def test_release_never_forgets_a_handled_id(make_store):
    store = make_store(Clock())
    await store.claim("wh_1", lease=10)
    await store.complete("wh_1")
    await store.release("wh_1")
    assert await store.claim("wh_1", lease=10) is Claim.DONE


async def test_concurrent_claims_give_one_claim(make_store):
    store = make_store(Clock())
    results: list[Claim] = []

    async def claim() -> None:
        results.append(await store.claim("wh_1", lease=10))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(claim)
    assert sorted(results) == sorted([Claim.CLAIMED] + [Claim.BUSY] * 7)


async def test_memory_store_keeps_the_most_recent_ids():
    store = MemoryDeliveryStore(max_done=2)
    for webhook_id in ("a", "b", "c"):
        await store.claim(webhook_id, lease=10)
        await store.complete(webhook_id)
    assert "a" not in store
    assert await store.claim("c", lease=10) is Claim.DONE
    with pytest.raises(ValueError, match="max_done"):
        MemoryDeliveryStore(max_done=0)


async def test_sqlite_store_survives_a_restart_and_is_shared(tmp_path):
    path = tmp_path / "hooks.db"
    async with SQLiteDeliveryStore(path) as first:
        await first.claim("done", lease=10)
        await first.complete("done")
        await first.claim("running", lease=60)
        # A second process on the same file sees the same ids and claims.
        async with SQLiteDeliveryStore(path) as other:
            assert await other.claim("running", lease=60) is Claim.BUSY
            assert await other.claim("done", lease=60) is Claim.DONE
    async with SQLiteDeliveryStore(path) as restarted:
        assert await restarted.claim("done", lease=10) is Claim.DONE


async def test_sqlite_store_forgets_old_ids_and_refuses_use_when_closed(tmp_path):
    clock = Clock()
    path = tmp_path / "hooks.db"
    store = SQLiteDeliveryStore(path, clock=clock)
    await store.claim("old", lease=10)
    await store.complete("old")
    await store.aclose()
    await store.aclose()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        await store.claim("x", lease=1)
    clock.now += 100
    async with SQLiteDeliveryStore(path, clock=clock, retention=50) as reopened:
        assert await reopened.claim("old", lease=10) is Claim.CLAIMED
