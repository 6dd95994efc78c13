"""Due check-ins for the load benchmark: many people whose check-in is due at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from bench.loadgen import Replies, Webhook
from bot.config import Settings
from bot.service import cipher_for
from bot.store import jobs, locks, records


@contextlib.contextmanager
def writing(db: Path | str) -> Iterator[sqlite3.Connection]:
    """One write transaction on a SQLite file or a postgresql:// URL (through the store's own
    adapter, taking the write lock every instance takes first)."""
    if isinstance(db, str):
        from bot.store.postgres.conn import Connection

        pg = Connection.connect(db)
        try:
            pg.raw.execute("BEGIN")
            pg.raw.execute("SELECT pg_advisory_xact_lock(%s, 0)", (locks.WRITE,))
            yield cast(sqlite3.Connection, pg)
            pg.raw.execute("COMMIT")
        finally:
            pg.close()
        return
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def insert_due(db: Path | str, key: str, count: int, channels: list[str],
               first: int) -> list[str]:
    """`count` people (addresses spread over `channels`), each with one check-in due now."""
    settings = (Settings(database_url=db, data_key=key) if isinstance(db, str)
                else Settings(database=db, data_key=key))
    cipher = cipher_for(settings)
    hooks = [Webhook(c, "") for c in channels]
    now = time.time()
    addresses = []
    with writing(db) as conn:
        for n in range(count):
            hook = hooks[n % len(hooks)]
            address = hook.address(first + n)
            person, _, _ = records.find_or_create_person(conn, cipher, hook.channel, address,
                                                         now - 60)
            jobs.schedule(conn, person_id=person, kind="checkin", due_at=now - 1, now=now - 60,
                          key="checkin_1", data={"n": 1, "of": 1, "day": 2})
            addresses.append(address)
    return addresses


class Drain:
    """How far the scheduled check-ins have reached the fake provider."""

    def __init__(self, replies: Replies, addresses: list[str]) -> None:
        self.replies, self.addresses = replies, addresses
        self.started = time.monotonic()
        self.before = self.delivered()

    def delivered(self) -> int:
        return sum(1 for a in self.addresses if self.replies.count[a])

    def summary(self) -> dict[str, Any]:
        return {"due": len(self.addresses), "delivered_before_phase": self.before,
                "delivered_during_phase": self.delivered() - self.before}

    async def wait(self, seconds: float) -> dict[str, Any]:
        for _ in range(int(seconds * 10)):  # polls a counter the fake updates
            if self.delivered() >= len(self.addresses):
                break
            await asyncio.sleep(0.1)
        last = max((self.replies.last_at.get(a, 0.0) for a in self.addresses), default=0.0)
        return {"due": len(self.addresses), "delivered": self.delivered(),
                "twice": sum(1 for a in self.addresses if self.replies.count[a] > 1),
                "last_delivered_s_before_now": round(time.monotonic() - last, 2)}
