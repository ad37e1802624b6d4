"""The batch journal: each row's state, durable before and after its request.

A row goes ``pending -> sending -> paid | pending_confirmation | failed``:

* ``pending``: known (registered by pre-flight) and never sent; its content may still
  change, since nothing left this machine.
* ``sending``: written, and committed, *before* the request goes out. A row left in
  ``sending`` (a crash, a cancel, an answer that never came) may or may not exist at
  the API; the next run looks it up by reference_id before sending it again.
* ``paid`` / ``pending_confirmation``: the payout exists; the next run skips the row.
* ``failed``: the API refused it. With a payout id (the API reports the payout as
  failed) the row is done; without one nothing was created, and the next run tries
  again (after a lookup, to be safe).

Several workers: :meth:`Journal.claim` takes a chunk of rows at once for one worker
(``run_id``). A granted row is marked ``sending`` under that worker's lease before
anything goes out; a row another live worker holds comes back ``held`` (ask again
later); a row that must not be sent comes back ``refused``. :class:`SQLiteJournal` is
one host's journal (the file is locked for the run), so it never answers ``held`` and
its lease never lapses; :class:`~.postgres.PostgresJournal` shares one batch between
processes on several hosts.

Once a row has left ``pending`` its content is locked: a later run that brings the
same reference_id with another payment (see "the same payment" in
:mod:`ecartpay_async.rules`) is refused with :class:`~ecartpay_async.JournalError`
(the journal keeps the rules' :func:`~ecartpay_async.rules.fingerprint` of the
content, not the content itself).

A journal belongs to one API origin, environment and account, and one input (see
:mod:`.identity`): :meth:`SQLiteJournal.bind` records them on the first run and
refuses any later run that differs, before anything is sent. (A :class:`Journal` of
one's own may offer ``bind`` too; the batch calls it when present.)

The file under the journal must stay the one opened: :class:`SQLiteJournal` checks
its identity (device and inode) before each commit. A journal deleted or replaced
while a batch runs fails that write and every later one, which stops the batch as
fatal, and what the run wrote is saved at once from the file still open: back at the
path if it was left empty, else beside it as ``PATH.rescued-XXXX``. The next journal
opened at that path takes the rescued rows in (keeping, for each row, the furthest
state) before anything else, so a row the lost run sent is known, and looked up
before it is sent again, even when another file had taken the path.

:class:`Journal` is the interface the engine uses; :class:`SQLiteJournal` the embedded
default. Writes are grouped: one writer task commits every mark queued while the
previous commit ran, in one transaction, and each worker waits for the commit that
covers its own mark. So ``synchronous=FULL`` costs one fsync per group, not per row.

Durability: in WAL mode a commit with ``synchronous=NORMAL`` reaches the operating
system before the call returns, which survives the process being killed (kill -9)
but not a power loss or kernel crash; ``FULL`` (the default) also fsyncs the WAL on
each commit, which survives those too. A lost ``sending`` mark is the one that could
pay twice (if the API did not enforce reference_id uniqueness), so FULL is the
default and NORMAL an opt-in for throwaway runs.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Literal, NamedTuple, Protocol, runtime_checkable

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._reprs import safe_repr
from ..errors import JournalError
from ..rules import fingerprint
from .identity import JournalIdentity, settle_identity

__all__ = [
    "Claim",
    "ClaimStatus",
    "Forgotten",
    "Journal",
    "JournalEntry",
    "JournalRow",
    "JournalState",
    "SQLiteJournal",
    "fingerprint",
]


class JournalState(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    PAID = "paid"
    PENDING_CONFIRMATION = "pending_confirmation"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@safe_repr
@attrs.frozen(slots=True)
class JournalEntry:
    """A row as the journal holds it."""

    reference_id: str
    fingerprint: str
    state: JournalState
    payout_id: str | None = None
    payout_status: str | None = None
    error: str | None = None
    run_id: str | None = None

    @property
    def done(self) -> bool:
        """The payout exists (in whatever final or waiting state): never send it again."""
        if self.state in (JournalState.PAID, JournalState.PENDING_CONFIRMATION):
            return True
        return self.state is JournalState.FAILED and self.payout_id is not None

    @property
    def locked(self) -> bool:
        """Whether the row may have reached the API, so its content must not change."""
        return self.state is not JournalState.PENDING


@safe_repr
@attrs.frozen(slots=True)
class Forgotten:
    """What :meth:`SQLiteJournal.forget` / ``PostgresJournal.forget`` did: ``rows`` in
    the batch, ``unfinished`` of them (``pending`` or ``sending``: not sent yet, or
    perhaps in flight), and whether they were deleted."""

    rows: int
    unfinished: int
    forgotten: bool


#: The states a finished batch has none of: rows never sent, and rows maybe in flight.
UNFINISHED_STATES: Final = ("pending", "sending")


class JournalRow(NamedTuple):
    """A row as a batch hands it to the journal: its key, its fingerprint and, for
    journals that report totals, what it pays. A ``(reference_id, fingerprint)``
    tuple is a row too. (Every field has a default so that even a half-built row,
    ``JournalRow.__new__(JournalRow)``, can be shown.)"""

    reference_id: str = ""
    fingerprint: str = ""
    amount: Decimal | None = None
    currency: str | None = None


class ClaimStatus(str, enum.Enum):
    GRANTED = "granted"  # marked sending under this worker's lease: send it
    HELD = "held"  # another live worker holds it: ask again later
    REFUSED = "refused"  # done, another payment, or finished by a peer in this run

    def __str__(self) -> str:
        return self.value


@safe_repr
@attrs.frozen(slots=True)
class Claim:
    """The answer to a claim for one row. ``entry`` is the row as it was before the
    claim (None for a row the journal did not know); a granted row that had left
    ``pending`` may exist at the API already and is looked up before it is sent."""

    reference_id: str
    status: ClaimStatus
    entry: JournalEntry | None
    #: A refused row another worker finished after this worker started (a peer of the
    #: same run), rather than one done before it.
    during_run: bool = False


@runtime_checkable
class Journal(Protocol):
    """Where a batch records each row's state (see the module docstring).

    Implementations make every awaited call durable before it returns. ``begin`` is
    the one decision point: it returns the row as it was before the call and, when
    the row may be sent (new, ``pending``, ``failed`` without a payout, or ``sending``
    from another run), marks it ``sending`` for ``run_id``. A row that is done,
    claimed by this same ``run_id``, or locked with another fingerprint is returned
    unchanged, and the caller must not send it.

    None means "new, never sent". A journal must know every row ever sent through
    it, so one that lost its storage under a run refuses every later write with
    :class:`JournalError` (the batch stops) and carries the rows that run wrote into
    the next run on the same journal (see the module docstring).
    """

    async def __aenter__(self) -> Journal: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool | None: ...

    async def register(self, rows: Sequence[JournalRow]) -> list[JournalEntry]:
        """Record rows (``JournalRow`` or ``(reference_id, fingerprint)``) as pending;
        return the conflicts.

        A conflict is a locked row whose fingerprint differs; it is left unchanged.
        """
        ...

    async def begin(self, reference_id: str, fingerprint: str, run_id: str) -> JournalEntry | None:
        ...

    async def finish(
        self,
        reference_id: str,
        state: JournalState,
        *,
        payout_id: str | None = None,
        payout_status: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record a row's result (``sending`` again for an answer that never came) and
        release its lease."""
        ...

    async def claim(self, rows: Sequence[JournalRow], run_id: str) -> list[Claim]:
        """Claim rows for worker ``run_id``, one :class:`Claim` per row, in order; the
        granted ones are ``sending`` (committed) under the worker's lease."""
        ...

    def on_lease_lost(self, callback: Callable[[JournalError], None]) -> None:
        """Call ``callback`` if this worker's leases may lapse (the journal could not
        renew them): whatever is in flight must stop before another worker takes over."""
        ...

    @property
    def poll_interval(self) -> float:
        """Seconds to wait before asking again for rows another worker holds."""
        ...

    @property
    def shared(self) -> bool:
        """Whether several workers may share the journal (the batch then claims rows
        in chunks; a journal for one worker is asked row by row, with ``begin``)."""
        ...


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS payouts (
    reference_id  TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    state         TEXT NOT NULL,
    payout_id     TEXT,
    payout_status TEXT,
    error         TEXT,
    run_id        TEXT,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID
"""
# Whose journal it is (see .identity): origin, environment, account, input.
_IDENTITY_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS identity (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""
_APPLICATION_ID: Final = 0x45435041  # "ECPA": marks the file as one of our journals
# 2 added the identity table; a format-1 journal gains it (and adopts its first
# run's identity) when opened.
_USER_VERSION: Final = 2
_ADOPTED_VERSIONS: Final = (1,)
_COLUMNS: Final = "reference_id, fingerprint, state, payout_id, payout_status, error, run_id"
_MAX_GROUP: Final = 1024
# Rows of a rescued journal, merged in: for each row the furthest state wins (done,
# then may-have-been-sent, then pending); between equals, the rescued row, the newer.
_RANK: Final = (
    "CASE WHEN {t}.state IN ('paid', 'pending_confirmation') "
    "OR ({t}.state = 'failed' AND {t}.payout_id IS NOT NULL) THEN 2 "
    "WHEN {t}.state = 'pending' THEN 0 ELSE 1 END"
)
_TAKE_IN: Final = (
    f"INSERT INTO payouts ({_COLUMNS}, updated_at) "  # noqa: S608 (constants)
    f"SELECT {', '.join('r.' + c for c in _COLUMNS.split(', '))}, r.updated_at "
    "FROM rescued.payouts AS r LEFT JOIN payouts AS m USING (reference_id) "
    f"WHERE m.reference_id IS NULL OR {_RANK.format(t='r')} >= {_RANK.format(t='m')} "
    "ON CONFLICT (reference_id) DO UPDATE SET fingerprint = excluded.fingerprint, "
    "state = excluded.state, payout_id = excluded.payout_id, "
    "payout_status = excluded.payout_status, error = excluded.error, "
    "run_id = excluded.run_id, updated_at = excluded.updated_at"
)

logger = logging.getLogger("ecartpay_async.batch")


@safe_repr
@attrs.define(slots=True)
class _Op:
    """One queued journal write and, once its group is committed, its result."""

    apply: Callable[[sqlite3.Connection], Any]
    done: anyio.Event = attrs.field(factory=anyio.Event)
    result: Any = None
    error: BaseException | None = None


@safe_repr
class SQLiteJournal(anyio.AsyncContextManagerMixin):
    """The embedded journal: one SQLite file in WAL mode, written by one writer task.

    ``async with SQLiteJournal("payroll.db") as journal: ...``. The file is created if
    missing and locked for the run (``locking_mode=EXCLUSIVE``): a second process
    opening the same journal gets a :class:`JournalError` instead of racing the first.
    ``synchronous`` is ``"FULL"`` (default) or ``"NORMAL"``; see the module docstring.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: Literal["FULL", "NORMAL"] = "FULL"
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        self.path = os.fspath(path)
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._ops: MemoryObjectSendStream[_Op] | None = None
        self._identity: tuple[int, int] | None = None
        self._wal = f"{self.path}-wal"
        self._wal_identity: tuple[int, int] | None = None
        self._lost: str | None = None  # why the file is no longer the one opened
        self.commits = 0  # transactions committed: rows marked / commits = group size

    def __repr__(self) -> str:
        return f"SQLiteJournal({self.path!r})"

    # -- lifetime --------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[SQLiteJournal]:
        """Open the file, run the writer task while the caller's block runs, close."""
        if self._conn is not None:
            raise JournalError(f"journal {self.path} is already open")
        self._conn = await anyio.to_thread.run_sync(self._connect)
        try:
            send, receive = anyio.create_memory_object_stream[_Op](max_buffer_size=math.inf)
            self._ops = send
            caller_error: BaseException | None = None
            async with anyio.create_task_group() as group:
                group.start_soon(self._writer, receive)
                try:
                    yield self
                except BaseException as exc:
                    # The caller's exception is not the writer's: it propagates as it
                    # is (below), not wrapped in an exception group.
                    caller_error = exc
                finally:
                    # Closing the queue lets the writer commit what is queued, then return.
                    send.close()
            if caller_error is not None:
                raise caller_error
        finally:
            conn, self._conn = self._conn, None
            # Shielded: a cancelled run must still release the file and its lock.
            if conn is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(conn.close)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0.2
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"journal {self.path} cannot use WAL mode (got {mode})")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now, not later
            self._check_or_create(conn)
            conn.execute("COMMIT")
            self._take_in_rescued(conn)
            self._identity = _identity(self.path)
            with contextlib.suppress(FileNotFoundError):
                self._wal_identity = _identity(self._wal)
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc):
                raise JournalError(
                    f"journal {self.path} is in use by another run; wait for it to finish"
                ) from exc
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise JournalError(f"{self.path} is not a journal: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_or_create(self, conn: sqlite3.Connection) -> None:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == 0 and version == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise JournalError(f"{self.path} is an SQLite file but not a payout journal")
            conn.execute(_SCHEMA)
            conn.execute(_IDENTITY_SCHEMA)
            conn.execute(f"PRAGMA application_id={_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={_USER_VERSION}")
        elif app_id != _APPLICATION_ID:
            raise JournalError(f"{self.path} is an SQLite file but not a payout journal")
        elif version in _ADOPTED_VERSIONS:
            conn.execute(_IDENTITY_SCHEMA)
            conn.execute(f"PRAGMA user_version={_USER_VERSION}")
        elif version != _USER_VERSION:
            raise JournalError(
                f"journal {self.path} has format {version}; this version reads {_USER_VERSION}"
            )

    # -- the writer ------------------------------------------------------------------

    async def _writer(self, receive: MemoryObjectReceiveStream[_Op]) -> None:
        async with receive:
            async for first in receive:
                group = [first]
                while len(group) < _MAX_GROUP:
                    try:
                        group.append(receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                try:
                    await anyio.to_thread.run_sync(self._commit, group)
                except (sqlite3.Error, JournalError) as exc:
                    error = exc if isinstance(exc, JournalError) else JournalError(
                        f"journal {self.path}: write failed: {exc}"
                    )
                    for op in group:
                        op.error = error
                for op in group:
                    op.done.set()

    def _commit(self, group: list[_Op]) -> None:
        conn = self._conn
        assert conn is not None
        self._check_identity()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op in group:
                op.result = op.apply(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1

    def _check_identity(self) -> None:
        """Refuse to write once the path no longer leads to the file opened."""
        if self._lost is None:
            try:
                identity = _identity(self.path)
            except FileNotFoundError:
                self._lost = "was deleted"
            else:
                if identity != self._identity:
                    self._lost = "was replaced by another file"
            if self._lost is not None:
                self._drop_wal()
                self._rescue()
        if self._lost is not None:
            raise JournalError(
                f"journal {self.path} {self._lost} while the batch ran; stopping, since "
                "a journal nobody reads again cannot prevent a second payment"
            )

    def _drop_wal(self) -> None:
        """Unlink this journal's write-ahead log once its database is gone from the path.

        SQLite leaves the log of a moved database in place, and would replay it onto
        whatever file comes to the path next. This connection keeps its own handle.
        """
        with contextlib.suppress(FileNotFoundError):
            if self._wal_identity is not None and _identity(self._wal) == self._wal_identity:
                os.unlink(self._wal)

    def _rescue(self) -> None:
        """Save what this run wrote, from the file still open: back at the path if it
        is free, else beside it, where the next open at the path takes it in."""
        assert self._conn is not None
        rescue = f"{self.path}.rescued-{uuid.uuid4().hex[:8]}"
        try:
            with contextlib.closing(sqlite3.connect(rescue)) as target:
                self._conn.backup(target)
        except sqlite3.Error as exc:
            logger.error("journal %s was lost and could not be saved: %s", self.path, exc)
            return
        try:
            os.link(rescue, self.path)  # fails if the path is taken: never overwrite
        except OSError:
            logger.error(
                "journal %s %s while the batch ran; its rows are saved as %s, and the "
                "next run on %s takes them in", self.path, self._lost, rescue, self.path,
            )
            return
        os.unlink(rescue)
        logger.warning("journal %s %s while the batch ran; restored it", self.path, self._lost)

    def _take_in_rescued(self, conn: sqlite3.Connection) -> None:
        """Merge the rows of journals rescued at this path (see :meth:`_rescue`)."""
        directory, name = os.path.split(os.path.abspath(self.path))
        prefix = f"{name}.rescued-"
        for entry in sorted(os.listdir(directory)):
            if not entry.startswith(prefix) or "-" in entry[len(prefix):]:
                continue  # not ours, or SQLite's own -wal / -journal beside it
            rescued = os.path.join(directory, entry)
            try:
                conn.execute("ATTACH DATABASE ? AS rescued", (rescued,))
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(_TAKE_IN)
                    taken = conn.execute("SELECT changes()").fetchone()[0]
                    conn.execute("COMMIT")
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute("DETACH DATABASE rescued")
            except sqlite3.Error as exc:
                raise JournalError(
                    f"journal {self.path}: cannot take in the rows saved in {rescued} "
                    f"({exc}); move that file away only once its rows are accounted for"
                ) from exc
            for leftover in (rescued, f"{rescued}-wal", f"{rescued}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)
            logger.warning("journal %s took in %d rows saved in %s", self.path, taken, rescued)

    async def _run(self, apply: Callable[[sqlite3.Connection], Any]) -> Any:
        if self._ops is None or self._conn is None:
            raise JournalError(f"journal {self.path} is not open (use 'async with')")
        op = _Op(apply)
        try:
            self._ops.send_nowait(op)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            # The writer is gone. If a cancellation stopped it, it stops this caller
            # too, here, rather than as an error; otherwise the journal was closed.
            await anyio.lowlevel.checkpoint()
            raise JournalError(f"journal {self.path} is closed") from None
        await op.done.wait()
        if op.error is not None:
            raise op.error
        return op.result

    # -- the interface -----------------------------------------------------------------

    async def register(self, rows: Sequence[JournalRow]) -> list[JournalEntry]:
        rows = list(rows)

        def apply(conn: sqlite3.Connection) -> list[JournalEntry]:
            conflicts = []
            now = _now()
            for row in rows:
                reference_id, digest = row[0], row[1]
                entry = _select(conn, reference_id)
                if entry is None:
                    conn.execute(
                        "INSERT INTO payouts (reference_id, fingerprint, state, updated_at) "
                        "VALUES (?, ?, 'pending', ?)",
                        (reference_id, digest, now),
                    )
                elif entry.fingerprint != digest:
                    if entry.locked:
                        conflicts.append(entry)
                    else:
                        conn.execute(
                            "UPDATE payouts SET fingerprint = ?, updated_at = ? "
                            "WHERE reference_id = ?",
                            (digest, now, reference_id),
                        )
            return conflicts

        result: list[JournalEntry] = await self._run(apply)
        return result

    async def begin(self, reference_id: str, fingerprint: str, run_id: str) -> JournalEntry | None:
        def apply(conn: sqlite3.Connection) -> JournalEntry | None:
            return _begin(conn, reference_id, fingerprint, run_id).entry

        result: JournalEntry | None = await self._run(apply)
        return result

    async def claim(self, rows: Sequence[JournalRow], run_id: str) -> list[Claim]:
        """One host's claim: :meth:`begin` for each row, in one transaction."""
        rows = list(rows)

        def apply(conn: sqlite3.Connection) -> list[Claim]:
            return [_begin(conn, row[0], row[1], run_id) for row in rows]

        result: list[Claim] = await self._run(apply)
        return result

    async def bind(self, identity: JournalIdentity) -> bool:
        """Check that this run is the one the journal belongs to, or record it as the
        owner (see :mod:`.identity`); raises
        :class:`~ecartpay_async.JournalMismatchError`, writing nothing, if not.
        Returns True when a journal written before identities existed, holding rows,
        was adopted by this run."""

        def apply(conn: sqlite3.Connection) -> bool:
            recorded = dict(conn.execute("SELECT name, value FROM identity"))
            missing = settle_identity(self.path, recorded, identity)
            conn.executemany(
                "INSERT INTO identity (name, value) VALUES (?, ?)", missing.items()
            )
            if recorded or not missing:
                return False
            return conn.execute("SELECT 1 FROM payouts LIMIT 1").fetchone() is not None

        result: bool = await self._run(apply)
        return result

    def on_lease_lost(self, callback: Callable[[JournalError], None]) -> None:
        """Never called: the file is locked for the run, so no other worker takes over."""

    @property
    def poll_interval(self) -> float:
        return 1.0  # never needed: one host's claims are never held elsewhere

    @property
    def shared(self) -> bool:
        return False  # the file is locked for one run

    async def finish(
        self,
        reference_id: str,
        state: JournalState,
        *,
        payout_id: str | None = None,
        payout_status: str | None = None,
        error: str | None = None,
    ) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE payouts SET state = ?, payout_id = coalesce(?, payout_id), "
                "payout_status = coalesce(?, payout_status), error = ?, updated_at = ? "
                "WHERE reference_id = ?",
                (str(state), payout_id, payout_status, error, _now(), reference_id),
            )

        await self._run(apply)

    async def forget(self, *, force: bool = False) -> Forgotten:
        """Delete every row, once the batch is finished (no row ``pending`` or
        ``sending``) or with ``force``; otherwise delete nothing. A SQLite journal holds
        one batch: this empties it, so the same reference_ids may be sent again (the
        API's uniqueness and the lookup before a resend still guard each one)."""

        def apply(conn: sqlite3.Connection) -> Forgotten:
            rows, unfinished = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE state IN (?, ?)) FROM payouts",
                UNFINISHED_STATES,
            ).fetchone()
            if unfinished and not force:
                return Forgotten(rows, unfinished, forgotten=False)
            conn.execute("DELETE FROM payouts")
            return Forgotten(rows, unfinished, forgotten=True)

        result: Forgotten = await self._run(apply)
        return result

    # -- reading (for tools and tests) ------------------------------------------------

    async def get(self, reference_id: str) -> JournalEntry | None:
        result: JournalEntry | None = await self._run(lambda conn: _select(conn, reference_id))
        return result

    async def done_among(self, reference_ids: Sequence[str]) -> set[str]:
        """Those of ``reference_ids`` whose payout exists (never sent again)."""
        wanted = list(reference_ids)

        def apply(conn: sqlite3.Connection) -> set[str]:
            done: set[str] = set()
            for start in range(0, len(wanted), 500):  # SQLite's bound on parameters
                part = wanted[start:start + 500]
                marks = ", ".join("?" * len(part))
                done.update(ref for (ref,) in conn.execute(
                    f"SELECT reference_id FROM payouts WHERE reference_id IN ({marks}) "  # noqa: S608
                    "AND (state IN ('paid', 'pending_confirmation') "
                    "OR (state = 'failed' AND payout_id IS NOT NULL))",
                    part,
                ))
            return done

        result: set[str] = await self._run(apply)
        return result

    async def counts(self) -> Mapping[JournalState, int]:
        """How many rows are in each state."""

        def apply(conn: sqlite3.Connection) -> dict[JournalState, int]:
            found = dict(conn.execute("SELECT state, count(*) FROM payouts GROUP BY state"))
            return {s: found[s.value] for s in JournalState if s.value in found}

        result: dict[JournalState, int] = await self._run(apply)
        return result


def _begin(conn: sqlite3.Connection, reference_id: str, digest: str, run_id: str) -> Claim:
    """The decision of :meth:`Journal.begin` for one row, written in ``conn``."""
    entry = _select(conn, reference_id)
    now = _now()
    if entry is None:
        conn.execute(
            "INSERT INTO payouts (reference_id, fingerprint, state, run_id, updated_at) "
            "VALUES (?, ?, 'sending', ?, ?)",
            (reference_id, digest, run_id, now),
        )
        return Claim(reference_id, ClaimStatus.GRANTED, None)
    refused = (
        entry.done
        or entry.run_id == run_id
        or (entry.locked and entry.fingerprint != digest)
    )
    if refused:
        return Claim(reference_id, ClaimStatus.REFUSED, entry)
    conn.execute(
        "UPDATE payouts SET state = 'sending', fingerprint = ?, run_id = ?, "
        "updated_at = ? WHERE reference_id = ?",
        (digest, run_id, now, reference_id),
    )
    return Claim(reference_id, ClaimStatus.GRANTED, entry)


def _select(conn: sqlite3.Connection, reference_id: str) -> JournalEntry | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM payouts WHERE reference_id = ?",  # noqa: S608 (constant)
        (reference_id,),
    ).fetchone()
    if row is None:
        return None
    ref, digest, state, payout_id, payout_status, error, run_id = row
    return JournalEntry(ref, digest, JournalState(state), payout_id, payout_status, error, run_id)


def _identity(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
