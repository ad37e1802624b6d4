"""Keep-alive connections by origin, bounded as ``httpx.Limits`` says.

``max_connections`` bounds the requests in flight, each holding one connection;
waiting longer than the ``pool`` timeout for one raises ``PoolTimeout``. Idle
connections are reused newest first, at most ``max_keepalive_connections`` are kept,
and one idle for longer than ``keepalive_expiry`` is closed instead of reused.
Taking and returning a connection is O(1) whatever the pool's size.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

import httpx

from ._config import ssl_context
from ._connection import Connection

__all__ = ["Origin", "Pool"]

Origin = tuple[bytes, str, int]


class Pool:
    """Connections for every origin one transport talks to."""

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext | bool) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._expiry = limits.keepalive_expiry
        self._keep = limits.max_keepalive_connections
        self._slots = (
            asyncio.Semaphore(limits.max_connections)
            if limits.max_connections is not None
            else None
        )
        self._idle: dict[Origin, deque[Connection]] = {}
        self._idle_count = 0
        self._loop = asyncio.get_running_loop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    async def acquire(self, origin: Origin, timeouts: dict[str, float | None]) -> Connection:
        """A connection to ``origin``: an idle one, else a new one. Call ``release`` after."""
        slots = self._slots
        if slots is not None:
            if slots.locked():
                try:
                    await asyncio.wait_for(slots.acquire(), timeouts.get("pool"))
                except asyncio.TimeoutError:
                    raise httpx.PoolTimeout("timed out waiting for a connection") from None
            else:
                await slots.acquire()  # a free slot: returns at once
        try:
            return self._reuse(origin) or await self._connect(origin, timeouts.get("connect"))
        except BaseException:
            if slots is not None:
                slots.release()
            raise

    def release(self, origin: Origin, connection: Connection) -> None:
        """Give the connection back (kept if still usable and there is room)."""
        if self._slots is not None:
            self._slots.release()
        if not connection.usable:
            return
        if self._keep is not None and self._idle_count >= self._keep:
            connection.close()
            return
        self._idle.setdefault(origin, deque()).append(connection)
        self._idle_count += 1

    def _reuse(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = self._loop.time()
        expiry = self._expiry
        if expiry is not None:  # the oldest are on the left
            while idle and now - idle[0].idle_since > expiry:
                idle.popleft().close()
                self._idle_count -= 1
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if connection.usable:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> Connection:
        scheme, host, port = origin
        tls = scheme == b"https"
        try:
            _, connection = await asyncio.wait_for(
                self._loop.create_connection(
                    Connection,
                    host,
                    port,
                    ssl=self._ssl_context() if tls else None,
                    server_hostname=host if tls else None,
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return connection

    def _ssl_context(self) -> ssl.SSLContext:
        # Built at the first https connection: loading the CA bundle takes milliseconds.
        if self._ssl is None:
            self._ssl = ssl_context(self._verify)
        return self._ssl

    def close(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle_count = 0
