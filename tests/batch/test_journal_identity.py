"""A journal belongs to one API origin, environment and account, and to one input.

A rehearsal's journal reused for production, a journal reused against another
sandbox account, and a journal brought back with another file are refused before
anything is sent, with :class:`JournalMismatchError` naming the field and both values.
Journals written before identities existed are adopted by their first run.
"""

from __future__ import annotations

import contextlib
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from batch_fakes import FakePayouts, make_requests

from ecartpay_async import AsyncClient, JournalError, JournalMismatchError, PayoutRequest
from ecartpay_async.batch import SQLiteJournal, fingerprint
from ecartpay_async.batch.identity import (
    InputDigest,
    JournalIdentity,
    origin_of,
    settle_identity,
)
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

KEYS = {"public_key": "pub_rehearsal", "private_key": "priv_rehearsal"}


def rows(prefix: str = "pay", count: int = 5) -> list[PayoutRequest]:
    return [PayoutRequest(email=f"e{n}@example.com", reference_id=f"{prefix}-{n}",
                          amount=Decimal("10.00"), currency="MXN") for n in range(count)]


async def test_a_sandbox_journal_never_silences_a_production_run(tmp_path: Path) -> None:
    journal = tmp_path / "rehearsal.db"
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        report = await client.payouts.send_batch(rows(), journal=journal)
    assert report.paid == 5
    # Production, with the same file and journal: refused before any request (the
    # production origin is never even asked for a token).
    production = AsyncClient(public_key="pk", private_key="sk", environment="production")
    async with production:
        with pytest.raises(JournalMismatchError) as info:
            await production.payouts.send_batch(rows(), journal=journal)
    error = info.value
    assert error.field == "origin"
    assert error.recorded == sb.base_url
    assert error.current == "https://ecartpay.com"
    assert [name for name, _, _ in error.changes] == ["origin", "environment"]
    assert isinstance(error, JournalError)
    assert "\n" not in str(error)
    assert "nothing was sent" in str(error)


async def test_a_journal_reused_against_another_sandbox_account_is_refused(
    tmp_path: Path
) -> None:
    journal = tmp_path / "run.db"
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        await client.payouts.send_batch(rows(), journal=journal)
        mine = await client.account_id()
    async with Sandbox(in_process=True) as other, other.client() as client:
        with pytest.raises(JournalMismatchError) as info:
            await client.payouts.send_batch(rows(), journal=journal)
        assert other.state.payouts() == []  # nothing sent
        theirs = await client.account_id()
    assert (info.value.field, info.value.recorded, info.value.current) == (
        "account", mine, theirs)
    assert mine != theirs


async def test_the_same_keys_are_the_same_account_on_the_next_rehearsal(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        await client.payouts.send_batch(rows(), journal=journal)
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        report = await client.payouts.send_batch(list(reversed(rows())), journal=journal)
    assert report.skipped == 5  # the same input in another order: resumed, not refused


async def test_a_journal_brought_back_with_another_file_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        await client.payouts.send_batch(rows("march"), journal=journal)
        with pytest.raises(JournalMismatchError) as info:
            await client.payouts.send_batch(rows("april"), journal=journal)
        assert len(sb.state.payouts()) == 5
    assert info.value.field == "input"
    assert "another --batch name or another journal" in str(info.value)
    assert "april" not in str(info.value)  # digests, not the rows themselves


async def test_a_pending_rows_fix_is_the_same_input(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    first = rows()
    fixed = [*first[:4], PayoutRequest(email="e4@example.com", reference_id="pay-4",
                                       amount=Decimal("12.00"), currency="MXN")]
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        async with SQLiteJournal(journal) as j:  # row 5 registered, never sent
            await j.register([(r.reference_id, fingerprint(r)) for r in first])
        report = await client.payouts.send_batch(fixed, journal=journal)
    assert report.paid == 5


async def test_a_journal_without_identity_is_adopted_by_its_first_run(tmp_path: Path) -> None:
    journal = tmp_path / "old.db"
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        await client.payouts.send_batch(rows(), journal=journal)
    # What an earlier version wrote: format 1, no identity table.
    with contextlib.closing(sqlite3.connect(journal)) as conn:
        conn.execute("DROP TABLE identity")
        conn.execute("PRAGMA user_version=1")
        conn.commit()
    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        batch = client.payouts.batch(rows(), journal=journal)
        async with batch:
            pass
    assert batch.adopted
    assert batch.report.skipped == 5
    with contextlib.closing(sqlite3.connect(journal)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        recorded = dict(conn.execute("SELECT name, value FROM identity"))
    assert set(recorded) == {"origin", "environment", "account", "input"}
    async with Sandbox(in_process=True) as other, other.client() as client:
        with pytest.raises(JournalMismatchError):
            await client.payouts.send_batch(rows(), journal=journal)


async def test_a_sender_without_an_identity_keeps_the_journal_as_it_was(tmp_path: Path) -> None:
    fake = FakePayouts()  # no run_identity: a sender of one's own
    report = await fake_batch(fake, tmp_path / "run.db")
    assert report.paid == 3


async def fake_batch(fake: FakePayouts, journal: Path):  # type: ignore[no-untyped-def]
    from ecartpay_async.batch import send_batch

    return await send_batch(fake, make_requests(3), journal=journal)


def test_the_input_digest_is_the_set_of_reference_ids() -> None:
    def digest(refs: list[str]) -> str:
        found = InputDigest()
        for ref in refs:
            found.add(ref)
        return found.hexdigest()

    assert digest(["a", "b", "c"]) == digest(["c", "a", "b"])
    assert digest(["a", "b"]) != digest(["a", "b", "c"])
    assert digest(["a", "b"]) != digest(["a", "c"])


def test_settling_names_every_changed_field_and_writes_only_what_is_new() -> None:
    current = JournalIdentity("https://ecartpay.com", "production", "acc-2", "d2")
    assert settle_identity("j", {}, current) == {
        "origin": "https://ecartpay.com", "environment": "production", "account": "acc-2",
        "input": "d2",
    }
    assert settle_identity("j", {"origin": "https://ecartpay.com"},
                           JournalIdentity("https://ecartpay.com", "production", "")) == {
        "environment": "production"}
    recorded = {"origin": "https://sandbox.ecartpay.com", "environment": "sandbox",
                "account": "acc-1", "input": "d1"}
    with pytest.raises(JournalMismatchError) as info:
        settle_identity("j", recorded, current)
    assert [name for name, _, _ in info.value.changes] == [
        "origin", "environment", "account", "input"]


def test_the_recorded_origin_carries_no_credentials() -> None:
    assert origin_of("https://user:secret@proxy.example:8443/ecartpay") == (
        "https://proxy.example:8443/ecartpay")
    assert origin_of("https://ecartpay.com") == "https://ecartpay.com"


async def test_an_async_input_is_checked_for_origin_and_account(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"

    async def stream(prefix: str):  # type: ignore[no-untyped-def]
        for request in rows(prefix):
            yield request

    async with Sandbox(in_process=True, **KEYS) as sb, sb.client() as client:
        first = await client.payouts.send_batch(stream("a"), journal=journal)
        # Its input is not known in advance: another stream is not refused for that.
        second = await client.payouts.send_batch(stream("b"), journal=journal)
    assert (first.paid, second.paid) == (5, 5)
    async with Sandbox(in_process=True) as other, other.client() as client:
        with pytest.raises(JournalMismatchError) as info:
            await client.payouts.send_batch(stream("c"), journal=journal)
    assert info.value.field == "account"
