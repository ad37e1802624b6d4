"""The PostgreSQL the journal tests run on, and a schema or database of their own.

The server is ``ECARTPAY_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without one, the modules that import
this one are skipped with one line saying so, unless ``ECARTPAY_REQUIRE_POSTGRES=1``
(CI), which turns the skip into an error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

DSN = os.environ.get("ECARTPAY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
_REQUIRED = os.environ.get("ECARTPAY_REQUIRE_POSTGRES") == "1"


def _unavailable() -> str | None:
    """Why the tests cannot run here, or None."""
    try:
        import psycopg
    except ImportError:
        return "the postgres extra is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        return (f"no PostgreSQL at {DSN} ({reason}); "
                "set ECARTPAY_TEST_POSTGRES_DSN=postgresql://user@host:port/db to run these")
    return None


_why_not = _unavailable()
if _why_not is not None:
    if _REQUIRED:
        raise RuntimeError(f"ECARTPAY_REQUIRE_POSTGRES=1 but {_why_not}")
    pytest.skip(_why_not, allow_module_level=True)

import psycopg  # noqa: E402 (available: checked above)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The DSN of a fresh database (for journals named by DSN alone); dropped after."""
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
