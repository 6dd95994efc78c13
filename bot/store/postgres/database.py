"""PostgreSQL through psycopg 3: the same Database (units, group commit) on a shared server.

Why a sync psycopg connection in a thread of its own, and not an async driver: a unit of work
is a plain synchronous function of one connection (bot/store/db.py), and every store module is
written so. A psycopg 3 connection owned by one worker thread runs those same functions
unchanged, as aiosqlite runs them on SQLite; an async driver (asyncpg, psycopg's
AsyncConnection) would need every store function rewritten as a coroutine, twice over. The
event loop never waits on the server: it awaits the thread, as it does for SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
from psycopg import pq

from bot.store import locks
from bot.store.db import MAX_BATCH, Database, Unit
from bot.store.postgres import schema
from bot.store.postgres.conn import Connection

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Worker:
    """One connection and the one thread that uses it."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.conn: Connection | None = None

    def _ensure(self) -> Connection:
        if self.conn is None or self.conn.raw.closed or self.conn.raw.broken:
            if self.conn is not None:  # the server went away: a new connection, once
                log.warning("PostgreSQL connection lost: reconnecting")
                self.conn.close()
            self.conn = Connection.connect(self.url)
        return self.conn

    async def run(self, fn: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(self._ensure()))

    async def close(self) -> None:
        conn = self.conn
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self.pool, conn.close)
        self.conn = None
        self.pool.shutdown(wait=True)


class PostgresDatabase(Database):
    """Database's API (open/close/read/write/checkpoint) on a PostgreSQL server."""

    def __init__(self, url: str, synchronous: str = "FULL") -> None:
        super().__init__(Path("postgresql"), synchronous)
        self.url = url
        self._workers: tuple[_Worker, _Worker] | None = None

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return "PostgresDatabase()"

    async def open(self) -> PostgresDatabase:
        writer, reader = _Worker(self.url, "rjbot-pg-writer"), _Worker(self.url, "rjbot-pg-reader")
        self._workers = (writer, reader)
        try:
            await writer.run(lambda c: schema.migrate(c.raw))
            await reader.run(lambda c: None)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        workers, self._workers = self._workers, None
        for worker in workers or ():
            await worker.close()

    async def read(self, unit: Unit[T]) -> T:
        """Run a read-only unit on the reader connection (each statement sees committed rows)."""
        if self._workers is None:
            raise RuntimeError("database is closed")
        return cast(T, await self._workers[1].run(lambda c: unit(cast(sqlite3.Connection, c))))

    def _is_open(self) -> bool:
        return self._workers is not None

    async def checkpoint(self, attempts: int = 5, pause: float = 0.2) -> bool:
        """After an erasure: VACUUM, so the erased rows' space is freed for reuse."""
        if self._workers is None:
            raise RuntimeError("database is closed")
        try:
            await self._workers[0].run(lambda c: c.raw.execute("VACUUM"))
        except psycopg.Error as exc:
            log.error("VACUUM failed: %s", type(exc).__name__)
            return False
        return True

    async def _flush(self) -> None:
        while self._pending and self._workers is not None:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            units = [u for u, _ in batch]
            try:
                results = await self._workers[0].run(
                    lambda c, units=units: _run_batch(c, units))
            except BaseException as exc:  # the thread itself failed: fail the whole batch
                results = [(False, exc)] * len(batch)
            for (_, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _run_batch(conn: Connection, units: list[Unit[Any]]) -> list[tuple[bool, Any]]:
    """One transaction, each unit in its own savepoint (as bot.store.db does on SQLite)."""
    raw, out = conn.raw, []
    try:
        raw.execute("BEGIN")
        # one write transaction at a time across every instance on this database, as SQLite's
        # one writer: the audit chain needs one order (each row names the one before it)
        raw.execute("SELECT pg_advisory_xact_lock(%s, 0)", (locks.WRITE,))
        for unit in units:
            raw.execute("SAVEPOINT unit")
            try:
                value = unit(cast(sqlite3.Connection, conn))
            except Exception as exc:
                raw.execute("ROLLBACK TO SAVEPOINT unit")
                raw.execute("RELEASE SAVEPOINT unit")
                out.append((False, exc))
            else:
                raw.execute("RELEASE SAVEPOINT unit")
                out.append((True, value))
        raw.execute("COMMIT")
    except psycopg.Error as exc:
        if not raw.broken and raw.info.transaction_status != pq.TransactionStatus.IDLE:
            raw.execute("ROLLBACK")
        log.error("write transaction failed: %s", type(exc).__name__)
        return [(False, exc)] * len(units)
    return out
