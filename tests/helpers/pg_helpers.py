"""The PostgreSQL the journal tests run on: a database of this run's own.

The server is ``ECARTPAY_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``; its user may create databases). Without
one, the modules that import this one are skipped with one line saying so, unless
``ECARTPAY_REQUIRE_POSTGRES=1`` (CI), which turns the skip into an error.

Runs of the suite share the server without disturbing each other: each run creates a
database with a random name when this module is first imported (:data:`DSN` points at
it) and drops it when the run ends; :func:`pg_database` makes further databases named
after it, and :func:`terminate_journal_connections` ends only the connections to this
run's databases.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

SERVER_DSN = os.environ.get(
    "ECARTPAY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
_REQUIRED = os.environ.get("ECARTPAY_REQUIRE_POSTGRES") == "1"


def with_database(dsn: str, name: str) -> str:
    """``dsn`` naming the database ``name`` (a URL stays a URL: the command reads it)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def _unavailable() -> str | None:
    """Why the tests cannot run here, or None."""
    try:
        import psycopg
    except ImportError:
        return "the postgres extra is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(SERVER_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        return (f"no PostgreSQL at {SERVER_DSN} ({reason}); "
                "set ECARTPAY_TEST_POSTGRES_DSN=postgresql://user@host:port/db to run these")
    return None


_why_not = _unavailable()
if _why_not is not None:
    if _REQUIRED:
        raise RuntimeError(f"ECARTPAY_REQUIRE_POSTGRES=1 but {_why_not}")
    pytest.skip(_why_not, allow_module_level=True)

import psycopg  # noqa: E402 (available: checked above)

#: This run's database; every database this run makes starts with this name.
RUN_DATABASE = f"ecartpay_test_{uuid.uuid4().hex[:10]}"
_ADMIN = SERVER_DSN  # where databases are created and dropped from (never dropped itself)


def create_database(name: str) -> str:
    """Create the database ``name`` on the server; its DSN."""
    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(SERVER_DSN, name)


def drop_database(name: str) -> None:
    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The DSN of this run's database (schemas of :func:`pg_schema` live in it).
DSN = create_database(RUN_DATABASE)
atexit.register(drop_database, RUN_DATABASE)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The DSN of a fresh database (for journals named by DSN alone); dropped after."""
    name = f"{RUN_DATABASE}_{uuid.uuid4().hex[:8]}"
    dsn = create_database(name)
    try:
        yield dsn
    finally:
        drop_database(name)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name in this run's database; the schema is dropped after the test."""
    name = f"ecartpay_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def terminate_journal_connections(schema: str) -> int:
    """Kill the connections of journals on ``schema`` in this run's databases, as a
    database restart would (another run's journals on the same server are left alone)."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid() "
            "AND (datname = %s OR left(datname, %s) = %s)",
            (f"ecartpay-async journal {schema}"[:63], RUN_DATABASE,
             len(RUN_DATABASE) + 1, RUN_DATABASE + "_"),
        ).fetchall()
    return len(rows)
