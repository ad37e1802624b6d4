"""Which deliveries were handled already: the receiver's deduplication by webhook id.

Ecart Pay delivers at least once: it retries a delivery whose answer was not a 2xx
(or never came) under the same ``x-pay-webhook-id``. The receiver asks its store to
*claim* an id before running the handlers, and marks it *done* only after they
succeeded; a failure *releases* the claim so that the retry runs them again.

A claim is a lease: it lapses after ``lease`` seconds, so an id claimed by a worker
that died mid-handler is taken over by the next delivery instead of being stuck.
A live worker *renews* its claim while its handlers run (a store's optional
``renew`` method; both stores here have it), so a slow handler never loses it.
While a claim is held, a second delivery of the same id (Ecart Pay retrying after a
slow answer) is told :attr:`Claim.BUSY` and the handlers do not run twice at once.
A store of your own without ``renew`` still works; its claims then last ``lease``
seconds whatever the handlers do.

:class:`MemoryDeliveryStore` is the default (one process, forgotten on restart);
:class:`SQLiteDeliveryStore` keeps the ids in a file, for a worker that restarts or
several worker processes on one host. Any object with the three methods of
:class:`DeliveryStore` can take their place (Redis, PostgreSQL...).
"""

from __future__ import annotations

import enum
import math
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

import anyio.to_thread

__all__ = ["Claim", "DeliveryStore", "MemoryDeliveryStore", "SQLiteDeliveryStore"]

#: How long a handled id is remembered: far longer than Ecart Pay's retries last
#: (five attempts over about two minutes).
DEFAULT_RETENTION: Final = 7 * 24 * 3600.0


class Claim(str, enum.Enum):
    """What :meth:`DeliveryStore.claim` found."""

    CLAIMED = "claimed"  # the caller now holds the id and runs the handlers
    DONE = "done"  # handled before: acknowledge, do not run again
    BUSY = "busy"  # another delivery of the id holds an unexpired claim

    def __str__(self) -> str:
        return self.value


@runtime_checkable
class DeliveryStore(Protocol):
    """Where the receiver records webhook ids; every method must be safe to call
    concurrently."""

    async def claim(self, webhook_id: str, *, lease: float) -> Claim:
        """Take ``webhook_id`` for ``lease`` seconds unless it is done or held."""
        ...

    async def complete(self, webhook_id: str) -> None:
        """Mark ``webhook_id`` handled: every later delivery of it is a duplicate."""
        ...

    async def release(self, webhook_id: str) -> None:
        """Give a claim back after the handlers failed, so that a retry runs them."""
        ...


class MemoryDeliveryStore:
    """Ids in this process's memory, the ``max_done`` most recent handled ones kept."""

    def __init__(
        self, *, max_done: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_done < 1:
            raise ValueError("max_done must be at least 1")
        self._max_done = max_done
        self._clock = clock
        self._done: OrderedDict[str, None] = OrderedDict()
        self._leases: dict[str, float] = {}

    # No await inside a method: on one event loop each call is atomic, so no lock.
    async def claim(self, webhook_id: str, *, lease: float) -> Claim:
        if webhook_id in self._done:
            return Claim.DONE
        now = self._clock()
        if self._leases.get(webhook_id, -math.inf) > now:
            return Claim.BUSY
        self._leases[webhook_id] = now + lease
        return Claim.CLAIMED

    async def complete(self, webhook_id: str) -> None:
        self._leases.pop(webhook_id, None)
        self._done[webhook_id] = None
        self._done.move_to_end(webhook_id)
        while len(self._done) > self._max_done:
            self._done.popitem(last=False)

    async def release(self, webhook_id: str) -> None:
        self._leases.pop(webhook_id, None)

    async def renew(self, webhook_id: str, *, lease: float) -> None:
        """Extend a claim still held (the handlers are still running)."""
        if webhook_id in self._leases:
            self._leases[webhook_id] = self._clock() + lease

    def __contains__(self, webhook_id: object) -> bool:
        """Whether ``webhook_id`` was handled (for tests and inspection)."""
        return webhook_id in self._done


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id   TEXT PRIMARY KEY,
    done_at      REAL,           -- set once the handlers succeeded
    lease_until  REAL            -- a claim in progress, until this time
)
"""


class SQLiteDeliveryStore:
    """Ids in a SQLite file (stdlib, WAL): they survive restarts, and processes that
    share the file share the claims. Handled ids older than ``retention`` seconds are
    forgotten when the store opens. Close it with :meth:`aclose` (the receiver does,
    at ASGI lifespan shutdown) or use it as an async context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention: float = DEFAULT_RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        self._lock = threading.Lock()
        # Calls run in worker threads, one at a time under the lock.
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.execute(
            "DELETE FROM webhook_deliveries WHERE done_at < ?", (clock() - retention,)
        )

    async def claim(self, webhook_id: str, *, lease: float) -> Claim:
        return await anyio.to_thread.run_sync(self._claim, webhook_id, lease)

    async def complete(self, webhook_id: str) -> None:
        await anyio.to_thread.run_sync(
            self._execute,
            "INSERT INTO webhook_deliveries (webhook_id, done_at) VALUES (?, ?) "
            "ON CONFLICT (webhook_id) DO UPDATE SET done_at = excluded.done_at, "
            "lease_until = NULL",
            (webhook_id, self._clock()),
        )

    async def release(self, webhook_id: str) -> None:
        await anyio.to_thread.run_sync(
            self._execute,
            "DELETE FROM webhook_deliveries WHERE webhook_id = ? AND done_at IS NULL",
            (webhook_id,),
        )

    async def renew(self, webhook_id: str, *, lease: float) -> None:
        """Extend a claim still held (the handlers are still running)."""
        await anyio.to_thread.run_sync(
            self._execute,
            "UPDATE webhook_deliveries SET lease_until = ? "
            "WHERE webhook_id = ? AND done_at IS NULL AND lease_until IS NOT NULL",
            (self._clock() + lease, webhook_id),
        )

    def _claim(self, webhook_id: str, lease: float) -> Claim:
        with self._lock:
            db = self._open()
            # IMMEDIATE: the read and the write below are one step for every process.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT done_at, lease_until FROM webhook_deliveries WHERE webhook_id = ?",
                    (webhook_id,),
                ).fetchone()
                now = self._clock()
                if row is not None and row[0] is not None:
                    found = Claim.DONE
                elif row is not None and row[1] is not None and row[1] > now:
                    found = Claim.BUSY
                else:
                    db.execute(
                        "INSERT INTO webhook_deliveries (webhook_id, lease_until) VALUES (?, ?) "
                        "ON CONFLICT (webhook_id) DO UPDATE SET lease_until = excluded.lease_until",
                        (webhook_id, now + lease),
                    )
                    found = Claim.CLAIMED
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return found

    def _execute(self, sql: str, parameters: tuple[object, ...]) -> None:
        with self._lock:
            self._open().execute(sql, parameters)

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the delivery store {self.path!r} is closed")
        return self._db

    async def aclose(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()

    async def __aenter__(self) -> SQLiteDeliveryStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
