"""A psycopg 3 connection that the store's units can use as they use a sqlite3 connection.

`execute` and `executemany` take SQLite's SQL (translated by sqlmap, once per statement) and
return a cursor with `fetchone`, `fetchall`, iteration, `rowcount` and `lastrowid` (an INSERT
into a table with an id gets RETURNING id). Rows allow `row[0]` and `row["name"]` as
sqlite3.Row does. Parameters are bound client-side (psycopg's ClientCursor), as SQLite binds
them: `? IS NULL` needs no type, and a Python bool is stored as 0/1 like SQLite's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg.adapt import Loader

from bot.store.postgres import sqlmap

Params = Sequence[Any]


class Row(tuple[Any, ...]):
    """A result row: a tuple that also answers to its column names (like sqlite3.Row)."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_maker(cursor: Any) -> Any:
    names: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, i)  # the first of two same-named columns, as sqlite3

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


class _Number(Loader):
    """numeric (sum of bigints, avg) as int or float, as SQLite returns them, not Decimal."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


class Cursor:
    """The part of sqlite3.Cursor the store uses."""

    def __init__(self, cursor: psycopg.ClientCursor[Row], lastrowid: int | None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid
        self.rowcount = cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


def _bound(params: Params) -> tuple[Any, ...]:
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


class Connection:
    """The store's view of one PostgreSQL connection (autocommit; Database opens transactions)."""

    dialect = "postgresql"  # bot.store.locks asks

    def __init__(self, raw: psycopg.Connection[Row]) -> None:
        self.raw = raw

    @classmethod
    def connect(cls, url: str) -> Connection:
        raw: psycopg.Connection[Row] = psycopg.connect(
            url, autocommit=True, cursor_factory=psycopg.ClientCursor, row_factory=_row_maker)
        raw.adapters.register_loader("numeric", _Number)
        return cls(raw)

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        wants = sqlmap.wants_id(sql)
        cur = self.raw.cursor()
        cur.execute(sqlmap.translate(sql, wants), _bound(params))
        lastrowid = None
        if wants:
            row = cur.fetchone()
            lastrowid = row[0] if row else None
        return Cursor(cur, lastrowid)  # type: ignore[arg-type]

    def executemany(self, sql: str, seq: Iterable[Params]) -> Cursor:
        cur = self.raw.cursor()
        cur.executemany(sqlmap.translate(sql), [_bound(p) for p in seq])
        return Cursor(cur, None)  # type: ignore[arg-type]

    def close(self) -> None:
        self.raw.close()
