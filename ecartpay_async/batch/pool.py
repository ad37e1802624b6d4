"""A bounded pool of workers over a stream of rows, for jobs that are not sends.

::

    async with WorkerPool(rows, check_one, concurrency=32) as results:
        async for result in results:      # in finishing order
            ...

One task group holds a feeder, which pulls rows lazily, and ``concurrency`` workers,
joined by bounded memory streams; results reach the caller through another bounded
stream. So memory stays O(concurrency) whatever the number of rows, a slow consumer
slows the workers, and no task outlives the ``async with`` block. Reconciliation and
bulk confirmation run on it (the payout batch has its own engine: journal, breaker,
adaptive limits).

``work(row, item)`` turns one row (numbered from 1) into its result; it is expected
to catch the failures it can name and return them as results: an exception it lets
through cancels the pool and propagates from the ``async with`` block.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .limits import RateLimiter

__all__ = ["WorkerPool", "iterate"]

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="WorkerPool[Any, Any]")


class WorkerPool(Generic[T, R]):
    """Runs ``work`` over ``items`` with at most ``concurrency`` rows in flight.

    ``rate_limit`` caps rows started per second. Leaving the block normally waits for
    every row; leaving it by an exception or a cancellation cancels the rows in flight.
    """

    def __init__(
        self,
        items: Iterable[T] | AsyncIterable[T],
        work: Callable[[int, T], Awaitable[R]],
        *,
        concurrency: int,
        rate_limit: float | None = None,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError("concurrency must be a positive integer")
        self._items = items
        self._work = work
        self.concurrency = concurrency
        self._rate = RateLimiter(rate_limit) if rate_limit is not None else None
        self._task_group: TaskGroup | None = None
        self._results: MemoryObjectReceiveStream[R] | None = None

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
        if self._results is None:
            raise RuntimeError("iterate the results inside its 'async with' block")
        try:
            return await self._results.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self: P) -> P:
        if self._task_group is not None:
            raise RuntimeError("a worker pool runs once")
        result_send, self._results = anyio.create_memory_object_stream[R](self.concurrency)
        work_send, work_receive = anyio.create_memory_object_stream[tuple[int, T]](
            self.concurrency
        )
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        with result_send, work_send, work_receive:
            self._task_group.start_soon(self._feed, work_send.clone())
            for _ in range(self.concurrency):
                self._task_group.start_soon(self._run, work_receive.clone(), result_send.clone())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None
        assert self._results is not None
        try:
            if exc is None:
                async for _ in self._results:
                    pass  # the caller stopped reading: finish the rows anyway
        except BaseException:
            self._task_group.cancel_scope.cancel()
            raise
        finally:
            if exc is not None:
                self._task_group.cancel_scope.cancel()
            try:
                # The caller's exception is not the workers': let it propagate unwrapped.
                await self._task_group.__aexit__(None, None, None)
            finally:
                self._results.close()

    async def _feed(self, work: MemoryObjectSendStream[tuple[int, T]]) -> None:
        async with work:
            row = 0
            async for item in iterate(self._items):
                row += 1
                await work.send((row, item))

    async def _run(
        self,
        work: MemoryObjectReceiveStream[tuple[int, T]],
        results: MemoryObjectSendStream[R],
    ) -> None:
        async with work, results:
            async for row, item in work:
                if self._rate is not None:
                    await self._rate.acquire()
                await results.send(await self._work(row, item))


async def iterate(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """Items of a sync or async iterable, pulled one at a time."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
