"""The PostgreSQL journal: worker processes on several hosts split one batch.

``journal="postgresql://user@host/db"`` (or ``--journal DSN`` on the command line)
selects it; the ``postgres`` extra installs its driver (psycopg 3). Start the same
command with the same input and the same DSN on as many hosts as you like: each worker
claims rows in chunks and sends only what it holds, and every row is paid once,
whichever worker dies and when.

Claims and leases. A worker claims the rows of a chunk of its input in one
transaction: it reads them without locks (rows done or held by another worker are
answered from that read, so walking past other workers' rows writes nothing), locks
those that look free with ``SELECT ... FOR UPDATE SKIP LOCKED`` (rows another worker
is claiming at that instant are skipped, not waited for), and marks the ones it may
send ``sending`` under its lease, ``worker`` and ``lease_until``, committed before
any request goes out. A background task renews the worker's leases every third of the
lease while it runs. A row leased by another worker whose lease is still live is
``held``: the worker asks again later and keeps going until every row of its input is
final or taken over. A lease that expired (its worker died: SIGKILL, power loss, a
partition) is taken over, and the row, which may exist at the API already, is looked
up by reference_id before anything is sent. Lease times come from the database's
clock, so the hosts' clocks do not matter.

If the worker cannot renew its leases (the database is unreachable), the batch is
told a third of a lease before they could lapse, so it stops sending and cancels what
is in flight before any other worker may take those rows over. A worker frozen for
longer than a whole lease (a stopped process, a paused virtual machine) stops as
soon as it runs again; a request it had already written to the network before the
freeze is the one case left to the API's own refusal of a reused reference_id.
Any other failure to reach the database stops the batch with a
:class:`~ecartpay_async.JournalError` (the next call reconnects); rows in flight keep
their ``sending`` mark and are taken over, with a lookup, once their lease expires. A
transaction that a deadlock or a serialization failure rolled back runs again.

A row that failed while another worker ran (its ``updated_at`` is later than that
worker's start) is final for that worker's run; rows that failed before a worker
started are tried again, after a lookup. A reference_id is one payment across the
whole database: a row brought by another batch with the same content is the same
row, and with other content it is refused before anything is sent.

Identity. The schema belongs to one API origin, environment and account, and each
batch name to one input (see :mod:`.identity`): :meth:`PostgresJournal.bind` records
them on the first run and refuses, before anything is sent, a run against another
origin or account or a batch name brought back with another file.

Schema (created on first use, in the PostgreSQL schema ``schema``, default
``ecartpay``; version 2, in ``schema_version``; a version-1 schema gains the
identity table when opened)::

    schema_version (version integer NOT NULL)
    identity (name text PRIMARY KEY, value text NOT NULL)  -- origin, environment,
                                                          -- account, input:<batch>
    payouts (
        reference_id  text PRIMARY KEY,
        batch         text NOT NULL,        -- the label that first registered the row
        fingerprint   text NOT NULL,        -- digest of recipient, amount, currency, flag
        amount        numeric,              -- for the status report's totals
        currency      text,
        state         text NOT NULL,        -- pending|sending|paid|pending_confirmation|failed
        payout_id     text,
        payout_status text,
        error         text,
        worker        text,                 -- the worker that last claimed the row
        lease_until   timestamptz,          -- set while that worker holds it
        claims        integer NOT NULL,     -- times the row was claimed
        updated_at    timestamptz NOT NULL
    )  -- indexed on (batch, state), and on worker for the rows in flight

psycopg's asynchronous connection runs on asyncio only, so the journal drives
blocking connections from anyio worker threads: the same code runs on asyncio and
trio. A worker holds two connections. Claims, registration and renewals go through
the first, every commit durable before it returns (the ``sending`` mark must be on
disk before the request goes out). Results go through the second, grouped as in
:class:`~.journal.SQLiteJournal` (one transaction commits every result queued while
the previous one ran, after a 3 ms wait for company) and committed with
``synchronous_commit=off``: a result lost to a crash of the database leaves its row
``sending`` under a lease that expires, and whoever takes it over looks it up first,
so the lost result costs a lookup, never a payout.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import anyio
import attrs
import psycopg
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from .._reprs import safe_repr
from ..errors import JournalError
from .dsn import hide_password, mask_dsn
from .identity import JournalIdentity, settle_identity
from .journal import (
    UNFINISHED_STATES,
    Claim,
    ClaimStatus,
    Forgotten,
    JournalEntry,
    JournalRow,
    JournalState,
)

if TYPE_CHECKING:
    from typing_extensions import LiteralString

__all__ = ["BatchStatus", "Holder", "PostgresJournal", "StateTotal", "batch_status"]

#: 2 added the identity table; a version-1 schema gains it when opened, and its first
#: run with this version adopts it (see :mod:`.identity`).
SCHEMA_VERSION: Final = 2
_ADOPTED_VERSIONS: Final = (1,)
#: Seconds a claim lasts unless renewed; tests shorten it (``ECARTPAY_JOURNAL_LEASE``).
DEFAULT_LEASE: Final = 30.0
_MAX_GROUP: Final = 1024
_TRANSACTION_TRIES: Final = 3
_LINGER: Final = 0.003  # seconds a result waits for others to share its commit

# Whose journal it is: origin, environment, account; and each batch's input
# (``input:<batch>``). See .identity.
_IDENTITY_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS {schema}.identity (name text PRIMARY KEY, value text NOT NULL)"
)
_CREATE: Final[tuple[LiteralString, ...]] = (
    "CREATE SCHEMA IF NOT EXISTS {schema}",
    "CREATE TABLE IF NOT EXISTS {schema}.schema_version (version integer NOT NULL)",
    """CREATE TABLE IF NOT EXISTS {schema}.payouts (
        reference_id  text PRIMARY KEY,
        batch         text NOT NULL,
        fingerprint   text NOT NULL,
        amount        numeric,
        currency      text,
        state         text NOT NULL CHECK (state IN
                          ('pending', 'sending', 'paid', 'pending_confirmation', 'failed')),
        payout_id     text,
        payout_status text,
        error         text,
        worker        text,
        lease_until   timestamptz,
        claims        integer NOT NULL DEFAULT 0,
        updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
    )""",
    "CREATE INDEX IF NOT EXISTS payouts_batch_state ON {schema}.payouts (batch, state)",
    # The renewals and the status report read the rows in flight by worker.
    "CREATE INDEX IF NOT EXISTS payouts_sending ON {schema}.payouts (worker) "
    "WHERE state = 'sending'",
    _IDENTITY_TABLE,
)
_COLUMN_NAMES: Final = (
    "reference_id", "fingerprint", "state", "payout_id", "payout_status", "error", "worker"
)
_COLUMNS: Final = sql.SQL(", ").join(map(sql.Identifier, _COLUMN_NAMES))


def describe_dsn(dsn: str) -> str:
    """The DSN without its password (for messages and reprs)."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return f"{mask_dsn(dsn)} (invalid DSN)"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}{port}/{info.get('dbname') or ''}"


@safe_repr
class _Session:
    """One connection, running one transaction at a time in a worker thread.

    A lost connection is reopened by the next call; the call that met the loss
    raises :class:`JournalError` (the batch stops on it).
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], name: str) -> None:
        self._connect = connect
        self._name = name
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = anyio.Lock()
        self.commits = 0

    async def transact(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        async with self._lock:
            return await anyio.to_thread.run_sync(self._transact, work)

    def _transact(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        conn = self._conn
        try:
            for attempt in range(_TRANSACTION_TRIES):
                try:
                    with conn.transaction():
                        result = work(conn)
                    break
                except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                    # A deadlock or serialization failure rolled it all back: the whole
                    # transaction may simply run again.
                    if attempt + 1 == _TRANSACTION_TRIES:
                        raise
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken:
                self._conn = None
                conn.close()
                raise JournalError(
                    f"lost the connection to the journal {self._name}: {_first_line(exc)}"
                ) from None
            raise JournalError(f"journal {self._name}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise JournalError(f"journal {self._name}: {_first_line(exc)}") from None
        self.commits += 1
        return result

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await anyio.to_thread.run_sync(conn.close)


@safe_repr
@attrs.define(slots=True)
class _Result:
    """One queued ``finish``; ``done`` is set once its group is committed."""

    reference_id: str
    state: JournalState
    payout_id: str | None
    payout_status: str | None
    error: str | None
    done: anyio.Event = attrs.field(factory=anyio.Event)
    failure: JournalError | None = None


@safe_repr
class PostgresJournal(anyio.AsyncContextManagerMixin):
    """A journal in PostgreSQL that several workers share (see the module docstring).

    ``batch`` labels the rows this worker registers (the status report groups by it);
    ``schema`` is the PostgreSQL schema holding the tables; ``lease`` the seconds a
    claim lasts unless renewed (default 30, or ``ECARTPAY_JOURNAL_LEASE``).
    """

    def __init__(
        self,
        dsn: str,
        *,
        batch: str = "default",
        schema: str = "ecartpay",
        lease: float | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        if lease is None:
            lease = float(os.environ.get("ECARTPAY_JOURNAL_LEASE", DEFAULT_LEASE))
        if not lease > 0:
            raise ValueError("lease must be a positive number of seconds")
        if not batch:
            raise ValueError("batch must be a non-empty label")
        self._dsn = dsn
        self.path = describe_dsn(dsn)  # the name batches print (no password)
        self.batch = batch
        self.schema = schema
        self.lease = lease
        self.connect_timeout = connect_timeout
        # Claims, registration and renewals: every commit durable before it returns.
        self._control = _Session(functools.partial(self._connect, durable=True), self.path)
        # Results: committed without waiting for the disk (synchronous_commit=off). A
        # result lost to a database crash leaves its row `sending` under a lease that
        # expires, and whoever takes it over looks it up: never a second payout.
        self._writes = _Session(functools.partial(self._connect, durable=False), self.path)
        self._started: datetime | None = None
        self._results: MemoryObjectSendStream[_Result] | None = None
        self._lease_valid_until = math.inf  # monotonic time the leases last to, at least
        self._lease_lost: list[Callable[[JournalError], None]] = []
        self._lease_error: JournalError | None = None
        self._workers: set[str] = set()  # the run ids this journal claimed rows for
        #: Statements this journal ran (the benchmark's cost per row).
        self.statements = 0

    def __repr__(self) -> str:
        return f"PostgresJournal({self.path!r}, batch={self.batch!r})"

    @property
    def commits(self) -> int:
        """Transactions this journal committed."""
        return self._control.commits + self._writes.commits

    @property
    def poll_interval(self) -> float:
        # Often enough that a worker waiting on its peers' last rows is not the slow
        # one; each poll is one claim statement per chunk of held rows.
        return min(max(self.lease / 10, 0.1), 0.25)

    @property
    def shared(self) -> bool:
        return True

    def on_lease_lost(self, callback: Callable[[JournalError], None]) -> None:
        self._lease_lost.append(callback)

    # -- lifetime ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[PostgresJournal]:
        """Connect (creating the schema on first use), run the writer and the lease
        renewer while the caller's block runs, then commit what is queued and close."""
        if self._results is not None:
            raise JournalError(f"journal {self.path} is already open")
        # A journal may serve one batch after another: each run's leases are its own.
        self._lease_lost, self._lease_error, self._workers = [], None, set()
        try:
            self._started = await self._transact(self._open)
            self._lease_valid_until = anyio.current_time() + self.lease
            send, receive = anyio.create_memory_object_stream[_Result](max_buffer_size=math.inf)
            self._results = send
            caller_error: BaseException | None = None
            async with anyio.create_task_group() as group:
                group.start_soon(self._writer, receive)
                group.start_soon(self._renewer)
                try:
                    yield self
                except BaseException as exc:
                    # The caller's exception propagates as it is, not in a group.
                    caller_error = exc
                finally:
                    # The writer commits what is queued, then returns; the renewer
                    # stops. Leases still held stay until they expire: a cancelled
                    # send may yet land.
                    send.close()
                    group.cancel_scope.cancel()
            if caller_error is not None:
                raise caller_error
        finally:
            self._results = None
            with anyio.CancelScope(shield=True):
                await self._control.close()
                await self._writes.close()

    def _connect(self, *, durable: bool) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=max(1, math.ceil(self.connect_timeout)),
                application_name=f"ecartpay-async journal {self.schema}"[:63],
            )
            if not durable:
                conn.execute("SET synchronous_commit TO off")
        except psycopg.Error as exc:
            # libpq quotes a DSN it cannot parse, password and all.
            reason = hide_password(_first_line(exc), self._dsn)
            raise JournalError(f"cannot reach the journal {self.path}: {reason}") from None
        return conn

    def _open(self, conn: psycopg.Connection[Any]) -> datetime:
        """Create or check the schema; return the database's time (this run's start)."""
        schema = sql.Identifier(self.schema)
        # One creator at a time: workers starting together must not race the DDL.
        self._execute(conn, "SELECT pg_advisory_xact_lock(hashtext(%s))",
                      (f"ecartpay_async.journal:{self.schema}",))
        exists = self._execute(
            conn, "SELECT to_regclass(%s)", (f"{_quote(self.schema)}.schema_version",)
        ).fetchone()
        if exists is None or exists[0] is None:
            for statement in _CREATE:
                self._execute(conn, sql.SQL(statement).format(schema=schema))
            self._execute(
                conn,
                sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(schema),
                (SCHEMA_VERSION,),
            )
        row = self._execute(
            conn, sql.SQL("SELECT max(version) FROM {}.schema_version").format(schema)
        ).fetchone()
        version = row[0] if row else None
        if version in _ADOPTED_VERSIONS:
            self._execute(conn, sql.SQL(_IDENTITY_TABLE).format(schema=schema))
            self._execute(
                conn,
                sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(schema),
                (SCHEMA_VERSION,),
            )
            version = SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            raise JournalError(
                f"journal {self.path} (schema {self.schema}) has format {version}; "
                f"this version reads {SCHEMA_VERSION}"
            )
        now = self._execute(conn, "SELECT clock_timestamp()").fetchone()
        assert now is not None
        started: datetime = now[0]
        return started

    # -- running statements --------------------------------------------------------------

    def _execute(
        self, conn: psycopg.Connection[Any], query: Any, params: Any = None
    ) -> psycopg.Cursor[Any]:
        self.statements += 1
        return conn.execute(query, params)

    async def _transact(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        return await self._control.transact(work)

    def _table(self) -> sql.Composed:
        return sql.SQL("{}.payouts").format(sql.Identifier(self.schema))

    # -- the interface -------------------------------------------------------------------

    async def register(self, rows: Sequence[JournalRow]) -> list[JournalEntry]:
        rows = list(rows)
        if not rows:
            return []
        table = self._table()

        def work(conn: psycopg.Connection[Any]) -> list[JournalEntry]:
            inserted = self._execute(
                conn,
                sql.SQL(
                    "INSERT INTO {} (reference_id, batch, fingerprint, amount, currency, state) "
                    "SELECT r, %s, f, a, c, 'pending' "
                    "FROM unnest(%s::text[], %s::text[], %s::numeric[], %s::text[]) "
                    "AS v(r, f, a, c) ON CONFLICT (reference_id) DO NOTHING "
                    "RETURNING reference_id"
                ).format(table),
                (self.batch, *_columns(rows)),
            ).fetchall()
            new = {r for (r,) in inserted}
            known = {row[0]: row for row in rows if row[0] not in new}
            if not known:
                return []
            # Only the rows the journal holds with another fingerprint come back.
            differing = self._execute(
                conn,
                sql.SQL(
                    "SELECT {} FROM {} AS p JOIN unnest(%s::text[], %s::text[]) AS v(r, f) "
                    "ON p.reference_id = v.r WHERE p.fingerprint <> v.f"
                ).format(sql.SQL(", ").join(
                    sql.SQL("p.{}").format(sql.Identifier(c)) for c in _COLUMN_NAMES
                ), table),
                (list(known), [row[1] for row in known.values()]),
            ).fetchall()
            conflicts: list[JournalEntry] = []
            changed: list[JournalRow] = []
            for record in differing:
                entry = _entry(record)
                if entry.locked:
                    conflicts.append(entry)
                else:  # nothing left for it yet: the content may still change
                    changed.append(known[entry.reference_id])
            if changed:
                self._execute(
                    conn,
                    sql.SQL(
                        "UPDATE {} AS p SET fingerprint = v.f, amount = v.a, currency = v.c, "
                        "updated_at = clock_timestamp() "
                        "FROM unnest(%s::text[], %s::text[], %s::numeric[], %s::text[]) "
                        "AS v(r, f, a, c) WHERE p.reference_id = v.r AND p.state = 'pending'"
                    ).format(table),
                    _columns(changed),
                )
            return conflicts

        result: list[JournalEntry] = await self._transact(work)
        return result

    async def bind(self, identity: JournalIdentity) -> bool:
        """Check that this run is the one the journal (this schema) belongs to, and
        that this batch name was run with this input, or record them (see
        :mod:`.identity`); raises :class:`~ecartpay_async.JournalMismatchError`,
        writing nothing, if not. Returns True when rows written before identities
        existed were adopted by this run."""
        schema = sql.Identifier(self.schema)
        input_key = f"input:{self.batch}"

        def work(conn: psycopg.Connection[Any]) -> bool:
            # Workers starting together record one identity, not two.
            self._execute(conn, "SELECT pg_advisory_xact_lock(hashtext(%s))",
                          (f"ecartpay_async.identity:{self.schema}",))
            recorded = dict(self._execute(
                conn, sql.SQL("SELECT name, value FROM {}.identity").format(schema)
            ).fetchall())
            missing = settle_identity(
                self.path, recorded, identity, input_key=input_key,
                input_label=f"input of batch {self.batch!r}",
            )
            if missing:
                self._execute(
                    conn,
                    sql.SQL(
                        "INSERT INTO {}.identity (name, value) "
                        "SELECT * FROM unnest(%s::text[], %s::text[])"
                    ).format(schema),
                    (list(missing), list(missing.values())),
                )
            if "origin" not in missing or recorded:
                return False
            return self._execute(
                conn, sql.SQL("SELECT 1 FROM {} LIMIT 1").format(self._table())
            ).fetchone() is not None

        result: bool = await self._transact(work)
        return result

    async def claim(self, rows: Sequence[JournalRow], run_id: str) -> list[Claim]:
        rows = list(rows)
        if not rows:
            return []
        table = self._table()
        lease = self.lease
        self._workers.add(run_id)

        def work(conn: psycopg.Connection[Any]) -> dict[str, Claim]:
            digests = {row[0]: row[1] for row in rows}
            claims: dict[str, Claim] = {}
            # A look without locks first: rows that are done or held elsewhere are
            # answered from it, so walking past other workers' rows writes nothing.
            candidates = self._decide_rows(conn, table, digests, run_id, claims, lock=False)
            # Then the rows that look free, locked; one taken meanwhile is skipped (held).
            granted = (
                self._decide_rows(conn, table, candidates, run_id, claims, lock=True)
                if candidates else {}
            )
            if granted:
                self._execute(
                    conn,
                    sql.SQL(
                        "UPDATE {} AS p SET state = 'sending', fingerprint = v.f, worker = %s, "
                        "lease_until = clock_timestamp() + %s * interval '1 second', "
                        "claims = p.claims + 1, updated_at = clock_timestamp() "
                        "FROM unnest(%s::text[], %s::text[]) AS v(r, f) "
                        "WHERE p.reference_id = v.r"
                    ).format(table),
                    (run_id, lease, list(granted), list(granted.values())),
                )
            unknown = [row for row in rows if row[0] not in claims and row[0] not in candidates]
            if unknown:  # never registered: insert them, claimed (a race loses: held)
                inserted = self._execute(
                    conn,
                    sql.SQL(
                        "INSERT INTO {} (reference_id, batch, fingerprint, amount, currency, "
                        "state, worker, lease_until, claims) "
                        "SELECT r, %s, f, a, c, 'sending', %s, "
                        "clock_timestamp() + %s * interval '1 second', 1 "
                        "FROM unnest(%s::text[], %s::text[], %s::numeric[], %s::text[]) "
                        "AS v(r, f, a, c) ON CONFLICT (reference_id) DO NOTHING "
                        "RETURNING reference_id"
                    ).format(table),
                    (self.batch, run_id, lease, *_columns(unknown)),
                ).fetchall()
                for (reference_id,) in inserted:
                    claims[reference_id] = Claim(reference_id, ClaimStatus.GRANTED, None)
            return claims

        claims: dict[str, Claim] = await self._transact(work)
        return [
            claims.get(row[0]) or Claim(row[0], ClaimStatus.HELD, None) for row in rows
        ]

    def _decide_rows(
        self,
        conn: psycopg.Connection[Any],
        table: sql.Composed,
        digests: dict[str, str],
        run_id: str,
        claims: dict[str, Claim],
        *,
        lock: bool,
    ) -> dict[str, str]:
        """Read the rows of ``digests`` (locking them, skipping locked ones, if
        ``lock``) and record in ``claims`` the answer for each row found, but the
        grants: returned (reference_id -> fingerprint), and with ``lock`` they are
        held by this transaction. Rows skipped by the lock are held."""
        found = self._execute(
            conn,
            sql.SQL(
                "SELECT {}, lease_until > clock_timestamp(), lease_until IS NULL, "
                "updated_at < %s FROM {} WHERE reference_id = ANY(%s){}"
            ).format(_COLUMNS, table, sql.SQL(" FOR UPDATE SKIP LOCKED" if lock else "")),
            (self._started, list(digests)),
        ).fetchall()
        granted: dict[str, str] = {}
        for record in found:
            entry = _entry(record[:7])
            live, released, before_start = record[7:]
            digest = digests[entry.reference_id]
            status = _decide(entry, digest, run_id, bool(live), bool(released),
                             bool(before_start))
            if status is ClaimStatus.GRANTED:
                granted[entry.reference_id] = digest
            claims[entry.reference_id] = Claim(entry.reference_id, status, entry,
                                               during_run=not before_start)
        if lock:
            for reference_id in digests.keys() - granted.keys() - claims.keys():
                claims[reference_id] = Claim(reference_id, ClaimStatus.HELD, None)
        else:
            for reference_id in granted:
                del claims[reference_id]  # decided under the lock
        return granted

    async def begin(self, reference_id: str, fingerprint: str, run_id: str) -> JournalEntry | None:
        """One row's claim. A row another live worker holds is an error here: several
        workers need a finite input, which the batch claims in chunks."""
        (claim,) = await self.claim([JournalRow(reference_id, fingerprint)], run_id)
        if claim.status is ClaimStatus.HELD:
            raise JournalError(
                f"reference_id {reference_id!r} is being sent by another worker"
                + (f" ({claim.entry.run_id})" if claim.entry else "")
            )
        return claim.entry

    async def finish(
        self,
        reference_id: str,
        state: JournalState,
        *,
        payout_id: str | None = None,
        payout_status: str | None = None,
        error: str | None = None,
    ) -> None:
        if self._results is None:
            raise JournalError(f"journal {self.path} is not open (use 'async with')")
        result = _Result(reference_id, state, payout_id, payout_status, error)
        try:
            self._results.send_nowait(result)
        except anyio.ClosedResourceError:
            raise JournalError(f"journal {self.path} is closed") from None
        await result.done.wait()
        if result.failure is not None:
            raise result.failure

    async def _writer(self, receive: MemoryObjectReceiveStream[_Result]) -> None:
        # Shielded from the journal's own cancel at exit: queued results still commit.
        with anyio.CancelScope(shield=True):
            async with receive:
                async for first in receive:
                    # A moment for the results of other sends to join this commit:
                    # fewer, larger transactions (the client's CPU per row halves).
                    await anyio.sleep(_LINGER)
                    group = [first]
                    while len(group) < _MAX_GROUP:
                        try:
                            group.append(receive.receive_nowait())
                        except (anyio.WouldBlock, anyio.EndOfStream):
                            break
                    try:
                        await self._writes.transact(functools.partial(self._write, group))
                    except JournalError as exc:
                        for result in group:
                            result.failure = exc
                    for result in group:
                        result.done.set()

    def _write(self, group: list[_Result], conn: psycopg.Connection[Any]) -> None:
        latest = {result.reference_id: result for result in group}  # the last word wins
        results = list(latest.values())
        self._execute(
            conn,
            sql.SQL(
                "UPDATE {} AS p SET state = v.s, payout_id = coalesce(v.i, p.payout_id), "
                "payout_status = coalesce(v.t, p.payout_status), error = v.e, "
                "lease_until = NULL, updated_at = clock_timestamp() "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS v(r, s, i, t, e) WHERE p.reference_id = v.r AND p.worker = ANY(%s)"
            ).format(self._table()),
            (
                [r.reference_id for r in results],
                [str(r.state) for r in results],
                [r.payout_id for r in results],
                [r.payout_status for r in results],
                [r.error for r in results],
                list(self._workers),  # a row taken over by another worker is theirs
            ),
        )

    # -- leases ------------------------------------------------------------------------------

    async def _renewer(self) -> None:
        """Renew this worker's leases every third of a lease; tell the batch when they
        may lapse (two renewals missed), a third of a lease before they could."""
        table = self._table()
        lease = self.lease
        while True:
            await anyio.sleep(lease / 3)
            started = anyio.current_time()
            if started >= self._lease_valid_until:
                # Frozen longer than a lease (a stopped process, a paused machine): the
                # rows may belong to another worker by now.
                self._declare_lost(JournalError("this worker was not running for a whole lease"))
            try:
                await self._transact(lambda conn: self._execute(
                    conn,
                    # Rows locked this instant are skipped, not waited for: they are
                    # being finished (by this worker's other connection: waiting could
                    # deadlock) or looked at by a claim; the next round renews them.
                    sql.SQL(
                        "UPDATE {0} SET lease_until = clock_timestamp() + %s * interval '1 second' "
                        "WHERE reference_id IN (SELECT reference_id FROM {0} "
                        "WHERE worker = ANY(%s) AND state = 'sending' AND lease_until IS NOT NULL "
                        "FOR UPDATE SKIP LOCKED)"
                    ).format(table),
                    (lease, list(self._workers)),
                ))
            except JournalError as exc:
                if anyio.current_time() >= self._lease_valid_until - lease / 3:
                    self._declare_lost(exc)
                continue
            self._lease_valid_until = started + lease

    def _declare_lost(self, cause: JournalError) -> None:
        if self._lease_error is not None:
            return
        self._lease_error = JournalError(
            f"cannot renew the leases in the journal {self.path}: {cause.message}; "
            "stopping before another worker may take the rows over"
        )
        for callback in self._lease_lost:
            callback(self._lease_error)

    # -- reading (status, tools, tests) -------------------------------------------------

    async def get(self, reference_id: str) -> JournalEntry | None:
        def work(conn: psycopg.Connection[Any]) -> JournalEntry | None:
            record = self._execute(
                conn,
                sql.SQL("SELECT {} FROM {} WHERE reference_id = %s").format(
                    _COLUMNS, self._table()
                ),
                (reference_id,),
            ).fetchone()
            return None if record is None else _entry(record)

        result: JournalEntry | None = await self._transact(work)
        return result

    async def forget(self, *, force: bool = False) -> Forgotten:
        """Delete this journal's batch (the rows labelled ``batch``) once it is finished
        (no row ``pending`` or ``sending``) or with ``force``; otherwise delete nothing.
        Other batches in the database are left as they are."""

        def work(conn: psycopg.Connection[Any]) -> Forgotten:
            # Locked first: a worker cannot claim a row between the count and the delete.
            states = [state for (state,) in self._execute(
                conn, sql.SQL("SELECT state FROM {} WHERE batch = %s FOR UPDATE").format(
                    self._table()), (self.batch,))]
            unfinished = sum(state in UNFINISHED_STATES for state in states)
            if unfinished and not force:
                return Forgotten(len(states), unfinished, forgotten=False)
            self._execute(conn, sql.SQL("DELETE FROM {} WHERE batch = %s").format(self._table()),
                          (self.batch,))
            return Forgotten(len(states), unfinished, forgotten=True)

        result: Forgotten = await self._transact(work)
        return result

    async def done_among(self, reference_ids: Sequence[str]) -> set[str]:
        """Those of ``reference_ids`` whose payout exists (never sent again)."""
        wanted = list(reference_ids)

        def work(conn: psycopg.Connection[Any]) -> set[str]:
            return {ref for (ref,) in self._execute(
                conn,
                sql.SQL(
                    "SELECT reference_id FROM {} WHERE reference_id = ANY(%s) "
                    "AND (state IN ('paid', 'pending_confirmation') "
                    "OR (state = 'failed' AND payout_id IS NOT NULL))"
                ).format(self._table()),
                (wanted,),
            )}

        result: set[str] = await self._transact(work)
        return result

    async def status(self, batch: str | None = None) -> list[BatchStatus]:
        """Every batch's state (or only ``batch``'s), across all workers."""
        result: list[BatchStatus] = await self._transact(
            lambda conn: _read_status(conn, self._table(), batch)
        )
        return result


def _decide(
    entry: JournalEntry, digest: str, run_id: str, live: bool, released: bool, before_start: bool
) -> ClaimStatus:
    """Whether ``run_id`` may send a row it found locked for itself (see the docstring)."""
    if entry.done or (entry.locked and entry.fingerprint != digest):
        return ClaimStatus.REFUSED
    if entry.state is JournalState.PENDING:
        return ClaimStatus.GRANTED
    if entry.state is JournalState.SENDING and not released:
        if not live:
            return ClaimStatus.GRANTED  # an expired lease: take it over (after a lookup)
        return ClaimStatus.REFUSED if entry.run_id == run_id else ClaimStatus.HELD
    # Failed without a payout, or released unanswered: retry it if that happened
    # before this run started; during this run it is another worker's final word.
    return ClaimStatus.GRANTED if before_start else ClaimStatus.REFUSED


def _entry(record: Sequence[Any]) -> JournalEntry:
    ref, digest, state, payout_id, payout_status, error, worker = record
    return JournalEntry(ref, digest, JournalState(state), payout_id, payout_status, error, worker)


def _columns(rows: Sequence[JournalRow]) -> tuple[list[Any], ...]:
    return (
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] if len(row) > 2 else None for row in rows],
        [row[3] if len(row) > 3 else None for row in rows],
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the status report ------------------------------------------------------------------------


@safe_repr
@attrs.frozen(slots=True)
class StateTotal:
    """Rows of one state and currency, and what they pay."""

    state: JournalState
    currency: str
    rows: int
    amount: Decimal


@safe_repr
@attrs.frozen(slots=True)
class Holder:
    """A worker holding ``sending`` rows: ``live`` leases, and ``expired`` ones (the
    worker died or lost the database: the rows are taken over by the next claim)."""

    worker: str
    live: int
    expired: int
    lease_until: datetime | None


@safe_repr
@attrs.frozen(slots=True)
class BatchStatus:
    batch: str
    totals: tuple[StateTotal, ...]
    holders: tuple[Holder, ...]
    released: int  # sending without a lease: left unanswered, looked up when retried

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.totals)

    def count(self, state: JournalState) -> int:
        return sum(t.rows for t in self.totals if t.state is state)


def _read_status(
    conn: psycopg.Connection[Any], table: sql.Composed, batch: str | None
) -> list[BatchStatus]:
    where = sql.SQL("WHERE batch = %s" if batch is not None else "")
    params = (batch,) if batch is not None else ()
    totals: defaultdict[str, list[StateTotal]] = defaultdict(list)
    for name, state, currency, rows, amount in conn.execute(
        sql.SQL(
            "SELECT batch, state, coalesce(currency, ''), count(*), coalesce(sum(amount), 0) "
            "FROM {} {} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).format(table, where),
        params,
    ):
        totals[name].append(StateTotal(JournalState(state), currency, rows, Decimal(amount)))
    holders: defaultdict[str, list[Holder]] = defaultdict(list)
    released: defaultdict[str, int] = defaultdict(int)
    for name, worker, live, expired, unleased, until in conn.execute(
        sql.SQL(
            "SELECT batch, coalesce(worker, ''), "
            "count(*) FILTER (WHERE lease_until > clock_timestamp()), "
            "count(*) FILTER (WHERE lease_until <= clock_timestamp()), "
            "count(*) FILTER (WHERE lease_until IS NULL), max(lease_until) "
            "FROM {} {} {} state = 'sending' GROUP BY 1, 2 ORDER BY 1, 2"
        ).format(table, where, sql.SQL("AND" if batch is not None else "WHERE")),
        params,
    ):
        released[name] += unleased
        if live or expired:
            holders[name].append(Holder(worker, live, expired, until))
    return [
        BatchStatus(name, tuple(totals[name]), tuple(holders[name]), released[name])
        for name in sorted(totals)
    ]


async def batch_status(
    dsn: str, *, batch: str | None = None, schema: str = "ecartpay"
) -> list[BatchStatus]:
    """The state of every batch in the journal at ``dsn`` (or of ``batch``)."""
    async with PostgresJournal(dsn, schema=schema) as journal:
        return await journal.status(batch)
