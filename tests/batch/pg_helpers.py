"""The PostgreSQL the journal tests run on, and a schema of their own per test.

The server is ``ECARTPAY_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without one the tests skip, unless
``ECARTPAY_REQUIRE_POSTGRES=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")

DSN = os.environ.get("ECARTPAY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
_reachable: str | None = None


def require_server() -> None:
    global _reachable
    if _reachable is None:
        try:
            psycopg.connect(DSN, connect_timeout=3).close()
            _reachable = ""
        except psycopg.Error as exc:
            _reachable = str(exc).strip().splitlines()[0]
    if _reachable:
        message = (
            f"no PostgreSQL at {DSN} ({_reachable}); "
            "set ECARTPAY_TEST_POSTGRES_DSN=postgresql://user@host:port/db to run these"
        )
        if os.environ.get("ECARTPAY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The DSN of a fresh database (for journals named by DSN alone); dropped after."""
    require_server()
    name = f"ecartpay_test_{uuid.uuid4().hex[:10]}"
    admin = DSN.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield DSN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name; the schema is dropped after the test."""
    require_server()
    name = f"ecartpay_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def terminate_journal_connections(schema: str) -> int:
    """Kill the connections of journals on ``schema``, as a database restart would."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (f"ecartpay-async journal {schema}"[:63],),
        ).fetchall()
    return len(rows)
