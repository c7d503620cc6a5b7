"""PostgreSQL for the tests: a fresh database per test (`pg_url`).

The server comes from ADWATCH_TEST_POSTGRES, a URL of a cluster where the user may
create databases (`.ci/run` starts a throwaway one; docs/postgres.md says how to
start your own). Without it the PostgreSQL tests are skipped, except under CI
(the CI variable set), where they fail: CI must never skip an engine silently.
`store_at` (conftest.py) uses `pg_url` when pytest runs with `--engine postgresql`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

SERVER_VARIABLE = "ADWATCH_TEST_POSTGRES"


def server_url() -> str:
    """The test cluster's URL; skips the test (fails it under CI) when there is none."""
    url = os.environ.get(SERVER_VARIABLE, "")
    if not url:
        message = f"{SERVER_VARIABLE} is not set: no PostgreSQL server to test against"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the PostgreSQL tests; see .ci/run)")
        pytest.skip(message)
    return url


def database_url(server: str, name: str) -> str:
    """`server` (a postgresql:// URL) naming database `name` instead of its own."""
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(server, autocommit=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    server = server_url()
    name = f"adwatch_test_{uuid.uuid4().hex[:16]}"
    with _admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(server, name)
    finally:
        with _admin(server) as conn:
            # FORCE: a connection the test left open must not keep the database alive.
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
