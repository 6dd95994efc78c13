"""Exclusion between instances that share one PostgreSQL database (no-ops on SQLite).

SQLite has one writer connection, so a unit of work never meets another instance's. On
PostgreSQL several `rjbot serve` share the store: every write transaction first takes the
store's write lock (bot/store/postgres/database.py: the audit chain needs one order, as SQLite
gives it), and the units also say what they must hold on their own, so that each stays right
if that lock is ever narrowed: a person's conversation (`PERSON`), an address being made a
person (`ADDRESS`), the retention sweep (`SWEEP`); outbox rows and jobs are claimed with
FOR UPDATE SKIP LOCKED (`skip_locked`). All are transaction-scoped (pg_advisory_xact_lock):
a crash releases them.
"""

from __future__ import annotations

import sqlite3

WRITE, PERSON, ADDRESS, SWEEP = 0, 1, 2, 3  # the first key of pg_advisory_xact_lock(int, int)
MIGRATE = 4


def on_server(conn: sqlite3.Connection) -> bool:
    """Whether the connection is PostgreSQL's (the adapter says so; sqlite3's has no dialect)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def hold(conn: sqlite3.Connection, space: int, key: int | bytes) -> None:
    """Wait for, then hold until commit, the lock on `key` in `space` (PostgreSQL only)."""
    if not on_server(conn):
        return
    if isinstance(key, bytes):  # a keyed hash: its first four bytes are key enough
        key = int.from_bytes(key[:4], "big", signed=True)
    conn.execute("SELECT pg_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer))",
                 (space, key % 2**31 if key >= 0 else key))


def skip_locked(conn: sqlite3.Connection, *tables: str) -> str:
    """What a claiming SELECT ends with: rows another instance is claiming are passed over."""
    if not on_server(conn):
        return ""
    return f" FOR UPDATE{' OF ' + ', '.join(tables) if tables else ''} SKIP LOCKED"
