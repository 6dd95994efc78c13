"""Which store a setting names: a file is SQLite (the embedded default), a URL PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from bot.store.db import Database

_POSTGRES = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and bool(_POSTGRES.match(target))


def open_database(target: Path | str, synchronous: str = "FULL") -> Database:
    """The Database for a path or a postgresql:// URL, not yet opened (`await db.open()`, or
    `async with`); both have the same API and run the same units."""
    if is_postgres(target):
        from bot.store.postgres.database import PostgresDatabase  # psycopg only when asked for

        return PostgresDatabase(str(target), synchronous)
    return Database(target, synchronous)
