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

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .limits import RateLimiter

__all__ = ["WorkerPool", "iterate"]

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="WorkerPool[Any, Any]")


class WorkerPool(anyio.AsyncContextManagerMixin, Generic[T, R]):
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
        self._entered = False
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

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self: P) -> AsyncIterator[P]:
        if self._entered:
            raise RuntimeError("a worker pool runs once")
        self._entered = True
        send, receive = anyio.create_memory_object_stream[R](self.concurrency)
        self._results = receive
        caller_error: BaseException | None = None
        with receive:
            async with anyio.create_task_group() as group:
                group.start_soon(self._run_all, send)
                try:
                    yield self
                    async for _ in receive:
                        pass  # the caller stopped reading: finish the rows anyway
                except BaseException as exc:
                    # The caller's exception is not the workers': it propagates as it
                    # is, not in an exception group, once they are cancelled.
                    caller_error = exc
                    group.cancel_scope.cancel()
        if caller_error is not None:
            raise caller_error

    async def _run_all(self, results: MemoryObjectSendStream[R]) -> None:
        """The feeder and the workers, joined by a bounded stream of rows."""
        work_send, work_receive = anyio.create_memory_object_stream[tuple[int, T]](
            self.concurrency
        )
        async with results, anyio.create_task_group() as group:
            with work_send, work_receive:
                group.start_soon(self._feed, work_send.clone())
                for _ in range(self.concurrency):
                    group.start_soon(self._run, work_receive.clone(), results.clone())

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
