"""The worker pool under reconciliation and bulk confirmation: bounded, lazy, structured."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from ecartpay_async.batch.pool import WorkerPool

pytestmark = pytest.mark.anyio


class Probe:
    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.pulled = 0
        self.done: list[int] = []

    def rows(self, count: int) -> Iterator[int]:
        for value in range(count):
            self.pulled += 1
            yield value

    async def work(self, row: int, value: int) -> tuple[int, int]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await anyio.sleep(0.001 * (value % 3))
        finally:
            self.in_flight -= 1
        self.done.append(row)
        return row, value * 2


async def test_every_row_once_with_at_most_concurrency_in_flight() -> None:
    probe = Probe()
    async with WorkerPool(probe.rows(200), probe.work, concurrency=5) as pool:
        results = [r async for r in pool]
    assert sorted(results) == [(i + 1, i * 2) for i in range(200)]
    assert probe.most == 5


async def test_rows_are_pulled_lazily() -> None:
    probe = Probe()
    async with WorkerPool(probe.rows(300), probe.work, concurrency=4) as pool:
        async for _ in pool:
            break
        # One row yielded; what was pulled is bounded by the streams, not the input.
        assert probe.pulled <= 4 * 4
    assert probe.pulled == 300  # leaving normally finishes every row
    assert len(probe.done) == 300


async def test_an_error_in_the_block_cancels_the_rows() -> None:
    probe = Probe()

    async def stop_at_first() -> None:
        async with WorkerPool(probe.rows(10_000), probe.work, concurrency=3) as pool:
            async for _ in pool:
                raise KeyError("stop")

    with pytest.raises(KeyError):
        await stop_at_first()
    assert probe.in_flight == 0
    assert len(probe.done) < 100


async def test_a_pool_runs_once_and_iterates_only_inside() -> None:
    probe = Probe()
    pool = WorkerPool(probe.rows(1), probe.work, concurrency=1)
    with pytest.raises(RuntimeError, match="inside"):
        await pool.__anext__()
    async with pool:
        pass
    with pytest.raises(RuntimeError, match="runs once"):
        async with pool:
            pass
    with pytest.raises(ValueError, match="concurrency"):
        WorkerPool(probe.rows(1), probe.work, concurrency=0)
