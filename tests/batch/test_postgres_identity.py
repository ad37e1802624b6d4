"""A PostgreSQL journal belongs to one origin and account, and each batch name to one file.

The README's several-hosts demo in a database where another user already ran the
same batch name against their own sandbox is refused before anything is sent, and so
is a batch name brought back with another file.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import psycopg
import pytest
from pg_helpers import DSN, pg_schema

from ecartpay_async import AsyncClient, JournalMismatchError, PayoutRequest
from ecartpay_async.batch.postgres import PostgresJournal
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio
__all__ = ["pg_schema"]  # the fixture, imported for pytest


def rows(prefix: str = "demo", count: int = 6) -> list[PayoutRequest]:
    return [PayoutRequest(email=f"e{n}@example.com", reference_id=f"{prefix}-{n}",
                          amount=Decimal("10.00"), currency="MXN") for n in range(count)]


def journal(schema: str, batch: str = "payroll-demo") -> PostgresJournal:
    return PostgresJournal(DSN, batch=batch, schema=schema)


@contextlib.asynccontextmanager
async def user(name: str) -> AsyncIterator[tuple[Sandbox, AsyncClient]]:
    """A user's own sandbox (its account follows from the keys) and a client on it."""
    sandbox = Sandbox(in_process=True, public_key=f"pub_{name}", private_key="k")
    async with sandbox as sb, sb.client() as client:
        yield sb, client


async def test_another_users_run_of_the_batch_name_is_refused(pg_schema: str) -> None:
    async with user("ana") as (_, client):
        report = await client.payouts.send_batch(rows(), journal=journal(pg_schema))
    assert report.paid == 6
    async with user("beto") as (sb, client):
        with pytest.raises(JournalMismatchError) as info:
            await client.payouts.send_batch(rows(), journal=journal(pg_schema))
        assert sb.state.payouts() == []  # nothing sent: not "every row already done"
    assert info.value.field == "account"


async def test_a_batch_name_brought_back_with_another_file_is_refused(pg_schema: str) -> None:
    async with user("ana") as (_sb, client):
        await client.payouts.send_batch(rows("march"), journal=journal(pg_schema))
        with pytest.raises(JournalMismatchError) as info:
            await client.payouts.send_batch(rows("april"), journal=journal(pg_schema))
        # Another batch name takes the other file.
        other = await client.payouts.send_batch(
            rows("april"), journal=journal(pg_schema, "payroll-april")
        )
        again = await client.payouts.send_batch(rows("march"), journal=journal(pg_schema))
    assert info.value.field == "input of batch 'payroll-demo'"
    assert other.paid == 6
    assert again.skipped == 6


async def test_a_version_1_schema_is_adopted_by_its_first_run(pg_schema: str) -> None:
    async with user("ana") as (_, client):
        await client.payouts.send_batch(rows(), journal=journal(pg_schema))
    with psycopg.connect(DSN, autocommit=True) as conn:  # as an earlier version left it
        conn.execute(f'DROP TABLE "{pg_schema}".identity')
        conn.execute(f'UPDATE "{pg_schema}".schema_version SET version = 1')
    async with user("ana") as (_, client):
        batch = client.payouts.batch(rows(), journal=journal(pg_schema))
        async with batch:
            pass
    assert batch.adopted
    assert batch.report.skipped == 6
    async with user("beto") as (_sb, client):
        with pytest.raises(JournalMismatchError):
            await client.payouts.send_batch(rows(), journal=journal(pg_schema))
