"""httpx's own transport, as several smaller pools (any event loop; the default on trio).

httpcore's pool scans its connections on every request and on every release, so its
CPU cost per request grows with the pool: at 64 connections it costs more than the
request itself (httpx #3215, httpcore #1035). ``ShardedTransport`` keeps httpx's
transport whole and unchanged, but splits ``max_connections`` over several
``httpx.AsyncHTTPTransport`` instances of :data:`SHARD_SIZE` connections each and
hands each request to the least busy one (the first, on a tie), so each scan stays
short, no request waits for a connection while another shard has one free, and a
quiet client keeps reusing the first shard's connections instead of opening one in
every shard.
"""

from __future__ import annotations

import math
import ssl

import httpx

__all__ = ["SHARD_SIZE", "ShardedTransport"]

#: Connections per shard: small enough that httpcore's per-request scans stay cheap.
SHARD_SIZE = 8


class ShardedTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` pools of ``SHARD_SIZE`` connections, least busy first."""

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext,
        proxy: httpx.Proxy | None = None,
    ) -> None:
        total = limits.max_connections
        count = 1 if total is None else max(1, math.ceil(total / SHARD_SIZE))
        keep = limits.max_keepalive_connections
        shard_limits = httpx.Limits(
            max_connections=None if total is None else math.ceil(total / count),
            max_keepalive_connections=None if keep is None else math.ceil(keep / count),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._shards = [
            httpx.AsyncHTTPTransport(verify=verify, limits=shard_limits, proxy=proxy,
                                     trust_env=False)
            for _ in range(count)
        ]
        self._busy = [0] * count  # requests in flight, per shard

    @property
    def shards(self) -> int:
        return len(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        busy = self._busy
        index = busy.index(min(busy))
        busy[index] += 1
        try:
            # The SDK reads the body at once, so a request's connection is free again
            # about when this returns.
            return await self._shards[index].handle_async_request(request)
        finally:
            busy[index] -= 1

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
