"""PostgreSQL for the tests: RJBOT_TEST_POSTGRES names a server; each session gets a database.

One throwaway database per test session (rjbot_test_<random>, dropped at the end) and one
schema per test in it, so every test starts from an empty store. When no server answers the
PostgreSQL tests are skipped with the reason; with CI=true a missing server fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgres")


def server_url() -> str:
    return os.environ.get("RJBOT_TEST_POSTGRES", "") or DEFAULT


def with_database(url: str, name: str, schema: str = "") -> str:
    """`url` aimed at database `name` (and, when given, with `schema` as its search path)."""
    parts = urlsplit(url)
    query = parts.query
    if schema:
        query = "&".join(q for q in (query, "options=" + quote(f"-csearch_path={schema}")) if q)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL tests need a server at RJBOT_TEST_POSTGRES ({server_url()}): {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a skipped PostgreSQL test is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The URL of this session's throwaway database."""
    try:
        admin = psycopg.connect(server_url(), autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        _unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    name = f"rjbot_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")  # a name we made: no quoting needed
    try:
        yield with_database(server_url(), name)
    finally:
        with psycopg.connect(server_url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL whose search path is a new, empty schema of the session's database."""
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_database(pg_database, urlsplit(pg_database).path.lstrip("/"), schema)
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store lives, once per back end: a SQLite file, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "rjbot.sqlite3"
    return str(request.getfixturevalue("pg_url"))
