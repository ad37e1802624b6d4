"""Connection pools split into shards (any event loop; the default stack on trio).

httpcore's pool scans its connections on every request and on every release, so its
CPU cost per request grows with the pool: at 64 connections it costs more than the
request itself (httpx #3215, httpcore #1035). :class:`Shards` keeps each pool whole
and unchanged, but splits ``max_connections`` over several pools of
:data:`SHARD_SIZE` connections each and hands each request to the least busy one (the
first, on a tie), so each scan stays short, no request waits for a connection while
another shard has one free, and a quiet client keeps reusing the first shard's
connections instead of opening one in every shard.

Two kinds of pool are sharded: ``httpcore.AsyncConnectionPool`` (the trio lane,
:mod:`._httpcore`) and ``httpx.AsyncHTTPTransport`` (:class:`ShardedTransport`, for
requests through a proxy and ``prefer="httpx"``). Both answer
``handle_async_request`` and ``aclose``.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import httpx

__all__ = ["SHARD_SIZE", "ShardedTransport", "Shards"]

#: Connections per shard: small enough that httpcore's per-request scans stay cheap.
SHARD_SIZE = 4

RequestT = TypeVar("RequestT", contravariant=True)
ResponseT = TypeVar("ResponseT", covariant=True)
Req = TypeVar("Req")
Resp = TypeVar("Resp")


class Pool(Protocol[RequestT, ResponseT]):
    async def handle_async_request(self, request: RequestT) -> ResponseT: ...

    async def aclose(self) -> None: ...


class Shards(Generic[Req, Resp]):
    """Pools of ``SHARD_SIZE`` connections, made by ``make(limits)``; least busy first."""

    def __init__(self, limits: httpx.Limits, make: Callable[[httpx.Limits], Pool[Req, Resp]]):
        total = limits.max_connections
        count = 1 if total is None else max(1, math.ceil(total / SHARD_SIZE))
        keep = limits.max_keepalive_connections
        shard_limits = httpx.Limits(
            max_connections=None if total is None else math.ceil(total / count),
            max_keepalive_connections=None if keep is None else math.ceil(keep / count),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._pools = [make(shard_limits) for _ in range(count)]
        self._busy = [0] * count  # requests in flight, per shard

    @property
    def shards(self) -> int:
        return len(self._pools)

    async def handle_async_request(self, request: Req) -> Resp:
        busy = self._busy
        index = busy.index(min(busy))
        busy[index] += 1
        try:
            # The SDK reads the body at once, so a request's connection is free again
            # about when this returns.
            return await self._pools[index].handle_async_request(request)
        finally:
            busy[index] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class ShardedTransport(Shards[httpx.Request, httpx.Response], httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` in shards: an httpx transport like any other."""

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext,
        proxy: httpx.Proxy | None = None,
    ) -> None:
        super().__init__(
            limits,
            lambda shard: httpx.AsyncHTTPTransport(
                verify=verify, limits=shard, proxy=proxy, trust_env=False
            ),
        )
