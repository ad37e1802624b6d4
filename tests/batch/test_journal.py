"""The SQLite journal: states, locking of content, durability across reopen, grouping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from ecartpay_async.batch import SQLiteJournal
from ecartpay_async.batch.journal import Journal, JournalState
from ecartpay_async.errors import JournalError

pytestmark = pytest.mark.anyio


async def test_a_row_goes_pending_sending_paid_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    async with SQLiteJournal(path) as journal:
        assert isinstance(journal, Journal)
        assert await journal.register([("r1", "fp1"), ("r2", "fp2")]) == []
        assert (await journal.get("r1")).state is JournalState.PENDING  # type: ignore[union-attr]
        prior = await journal.begin("r1", "fp1", "run-a")
        assert prior is not None
        assert prior.state is JournalState.PENDING
        assert (await journal.get("r1")).state is JournalState.SENDING  # type: ignore[union-attr]
        await journal.finish("r1", JournalState.PAID, payout_id="po_1", payout_status="paid")
        assert await journal.begin("r3", "fp3", "run-a") is None  # new rows go straight out
    async with SQLiteJournal(path) as journal:
        entry = await journal.get("r1")
        assert entry is not None
        assert entry.state is JournalState.PAID
        assert entry.done
        assert entry.payout_id == "po_1"
        assert (await journal.get("r3")).state is JournalState.SENDING  # type: ignore[union-attr]
        counts = await journal.counts()
        assert counts == {JournalState.PENDING: 1, JournalState.SENDING: 1, JournalState.PAID: 1}


async def test_begin_refuses_done_duplicate_and_changed_rows(tmp_path: Path) -> None:
    async with SQLiteJournal(tmp_path / "j.db") as journal:
        await journal.begin("paid", "fp", "old")
        await journal.finish("paid", JournalState.PAID, payout_id="po")
        await journal.begin("sent", "fp", "old")
        await journal.begin("mine", "fp", "new")
        # done: returned unchanged
        assert (await journal.begin("paid", "fp", "new")).state is JournalState.PAID  # type: ignore[union-attr]
        # claimed by this run already: a duplicate, left alone
        again = await journal.begin("mine", "fp", "new")
        assert again is not None
        assert again.run_id == "new"
        # content changed after it went out: left alone for the caller to refuse
        changed = await journal.begin("sent", "other", "new")
        assert changed is not None
        assert changed.fingerprint == "fp"
        assert (await journal.get("sent")).run_id == "old"  # type: ignore[union-attr]
        # sent by a run that died: claimed again for a lookup
        claimed = await journal.begin("sent", "fp", "new")
        assert claimed is not None
        assert claimed.state is JournalState.SENDING
        assert (await journal.get("sent")).run_id == "new"  # type: ignore[union-attr]


async def test_a_failed_row_without_payout_is_retried_with_one_is_done(tmp_path: Path) -> None:
    async with SQLiteJournal(tmp_path / "j.db") as journal:
        await journal.begin("refused", "fp", "a")
        await journal.finish("refused", JournalState.FAILED, error="400 no such recipient")
        await journal.begin("bounced", "fp", "a")
        await journal.finish("bounced", JournalState.FAILED, payout_id="po_9",
                             payout_status="failed")
        refused = await journal.begin("refused", "fp", "b")
        assert refused is not None
        assert not refused.done
        assert (await journal.get("refused")).state is JournalState.SENDING  # type: ignore[union-attr]
        bounced = await journal.begin("bounced", "fp", "b")
        assert bounced is not None
        assert bounced.done


async def test_register_reports_conflicts_only_for_rows_that_went_out(tmp_path: Path) -> None:
    async with SQLiteJournal(tmp_path / "j.db") as journal:
        await journal.register([("pending", "fp"), ("sent", "fp")])
        await journal.begin("sent", "fp", "a")
        conflicts = await journal.register([("pending", "changed"), ("sent", "changed")])
        assert [c.reference_id for c in conflicts] == ["sent"]
        assert (await journal.get("pending")).fingerprint == "changed"  # type: ignore[union-attr]


async def test_one_run_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    async with SQLiteJournal(path):
        with pytest.raises(JournalError, match="in use by another run"):
            async with SQLiteJournal(path):
                pass
    async with SQLiteJournal(path):  # released on close
        pass


async def test_files_that_are_not_journals(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("hello, this is not a database at all" * 100)
    with pytest.raises(JournalError, match="not a journal"):
        async with SQLiteJournal(text):
            pass
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(JournalError, match="not a payout journal"):
        async with SQLiteJournal(other):
            pass


async def test_marks_are_grouped_into_few_commits(tmp_path: Path) -> None:
    async with SQLiteJournal(tmp_path / "j.db") as journal:
        async with anyio.create_task_group() as tg:
            for i in range(500):
                tg.start_soon(journal.begin, f"r{i}", "fp", "run")
        assert (await journal.counts())[JournalState.SENDING] == 500
        assert journal.commits < 100


async def test_using_a_closed_journal_is_an_error(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "j.db")
    with pytest.raises(JournalError, match="not open"):
        await journal.get("x")
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteJournal(tmp_path / "j.db", synchronous="OFF")  # type: ignore[arg-type]


async def test_normal_synchronous_works_too(tmp_path: Path) -> None:
    async with SQLiteJournal(tmp_path / "j.db", synchronous="NORMAL") as journal:
        assert await journal.begin("r", "fp", "run") is None


def _rescued(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.rescued-*"))


async def test_a_journal_deleted_while_open_refuses_writes_and_is_restored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    async with SQLiteJournal(path) as journal:
        await journal.begin("r1", "fp", "run")
        path.unlink()
        with pytest.raises(JournalError, match="was deleted"):
            await journal.begin("r2", "fp", "run")
        # Put back at once, from the file still open: a kill now loses nothing.
        assert path.exists()
        with pytest.raises(JournalError, match="was deleted"):  # and every write after
            await journal.finish("r1", JournalState.PAID)
    async with SQLiteJournal(path) as journal:
        entry = await journal.get("r1")
        assert entry is not None
        assert entry.state is JournalState.SENDING
        assert await journal.get("r2") is None
    assert _rescued(tmp_path) == []


async def test_a_journal_replaced_while_open_is_taken_in_by_the_next_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    older = tmp_path / "older.db"
    async with SQLiteJournal(path) as journal:
        await journal.register([("r1", "fp"), ("r2", "fp"), ("r3", "fp")])
        await journal.begin("r3", "fp", "first")
        await journal.finish("r3", JournalState.PAID, payout_id="po_3")
    older.write_bytes(path.read_bytes())  # a copy from before the next run
    async with SQLiteJournal(path) as journal:
        await journal.begin("r1", "fp", "second")  # sent by this run...
        older.replace(path)  # ...then the older copy is put in the journal's place
        with pytest.raises(JournalError, match="replaced by another file"):
            await journal.begin("r2", "fp", "second")
        (saved,) = _rescued(tmp_path)  # this run's rows, kept beside it
    async with SQLiteJournal(path) as journal:
        # The next run on the path knows what the lost run sent, and looks it up.
        assert (await journal.get("r1")).state is JournalState.SENDING  # type: ignore[union-attr]
        assert (await journal.get("r2")).state is JournalState.PENDING  # type: ignore[union-attr]
        assert (await journal.get("r3")).done  # type: ignore[union-attr]
    assert not saved.exists()
    assert _rescued(tmp_path) == []


async def test_taking_in_keeps_the_furthest_state_of_each_row(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    async with SQLiteJournal(path) as journal:
        await journal.begin("pending", "fp", "other")  # further here than rescued: kept
        await journal.register([("sent", "fp")])  # pending here: the rescued row wins
        await journal.begin("paid", "fp", "other")
    async with SQLiteJournal(tmp_path / "j.db.rescued-0badc0de") as rescued:
        await rescued.register([("pending", "fp"), ("new", "fp")])
        await rescued.begin("sent", "fp", "lost")
        await rescued.begin("paid", "fp", "lost")
        await rescued.finish("paid", JournalState.PAID, payout_id="po_1")
    async with SQLiteJournal(path) as journal:
        states = {ref: (await journal.get(ref)).state  # type: ignore[union-attr]
                  for ref in ("pending", "new", "sent", "paid")}
    assert states == {
        "pending": JournalState.SENDING, "new": JournalState.PENDING,
        "sent": JournalState.SENDING, "paid": JournalState.PAID,
    }
    assert _rescued(tmp_path) == []
