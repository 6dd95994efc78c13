"""SQLite through aiosqlite: one writer with group commit, one reader, WAL.

A unit of work is a plain function of a sqlite3 connection, run in aiosqlite's thread. Units
queued while a commit is in flight are run together in the next transaction, each inside its
own SAVEPOINT, so one failing unit does not spoil the others and a burst costs one commit.
Every caller's future resolves only after COMMIT returned, so nothing is acknowledged before it
is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.schema import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")
Unit = Callable[[sqlite3.Connection], T]
MAX_BATCH = 256


def _connect_pragmas(conn: sqlite3.Connection, synchronous: str) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA secure_delete=ON")  # erased content is overwritten, not just unlinked


class Database:
    """The one writer connection (serialised, batched) and a reader connection."""

    def __init__(self, path: Path | str, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self.path = Path(path)
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._pending: list[tuple[Unit[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def open(self) -> Database:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._writer = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await self._in_thread(self._writer, lambda c: _connect_pragmas(c, self.synchronous))
            await self._in_thread(self._writer, migrate)
            for suffix in ("", "-wal", "-shm"):  # personal data: readable by the service only
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{self.path}{suffix}", 0o600)
            await self._in_thread(self._reader, lambda c: _connect_pragmas(c, self.synchronous))
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    async def _in_thread(conn: aiosqlite.Connection, fn: Unit[T]) -> T:
        # aiosqlite runs each call in its own thread; sending one function instead of one
        # statement at a time saves a thread hop per statement (see DEPENDENCIES: batch).
        raw = conn._conn
        return await conn._execute(fn, raw)  # type: ignore[no-untyped-call,no-any-return]

    async def read(self, unit: Unit[T]) -> T:
        """Run a read-only unit on the reader connection (WAL: never blocked by the writer)."""
        if self._reader is None:
            raise RuntimeError("database is closed")
        return await self._in_thread(self._reader, unit)

    def _is_open(self) -> bool:
        return self._writer is not None

    async def write(self, unit: Unit[T]) -> T:
        """Run a unit in a write transaction; returns once it is committed."""
        if not self._is_open():
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((unit, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def checkpoint(self, attempts: int = 5, pause: float = 0.2) -> bool:
        """Fold the WAL back into the database file and truncate it (after an erasure).

        A reader in the middle of a read makes the checkpoint busy (old pages stay in the
        WAL); it is tried again a few times. False (and an error in the log) if it never
        completed."""
        if self._writer is None:
            raise RuntimeError("database is closed")
        for attempt in range(attempts):
            busy = await self._in_thread(
                self._writer, lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
            if busy is None or not busy[0]:
                return True
            if attempt + 1 < attempts:
                await asyncio.sleep(pause)
        log.error("WAL checkpoint stayed busy after %d attempts", attempts)
        return False

    async def _flush(self) -> None:
        while self._pending and self._writer is not None:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            units = [u for u, _ in batch]
            try:
                results = await self._in_thread(
                    self._writer, lambda c, units=units: _run_batch(c, units)  # type: ignore[misc]
                )
            except BaseException as exc:  # the thread itself failed: fail the whole batch
                results = [(False, exc)] * len(batch)
            for (_, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _run_batch(conn: sqlite3.Connection, units: list[Unit[Any]]) -> list[tuple[bool, Any]]:
    out: list[tuple[bool, Any]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for unit in units:
            conn.execute("SAVEPOINT unit")
            try:
                value = unit(conn)
            except Exception as exc:
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
                out.append((False, exc))
            else:
                conn.execute("RELEASE unit")
                out.append((True, value))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        log.error("write transaction failed: %s", type(exc).__name__)
        return [(False, exc)] * len(units)
    return out
