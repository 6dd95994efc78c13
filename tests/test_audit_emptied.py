"""`rjbot audit verify` notices a deleted audit table, not only deleted newest rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import audit, records
from bot.store.db import Database


async def test_an_emptied_audit_log_is_reported(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.db") as db:
        for n in range(5):
            await db.write(lambda c, n=n: records.audit(c, "bot", f"act{n}", 1000.0 + n))
    conn = sqlite3.connect(tmp_path / "a.db")
    conn.row_factory = sqlite3.Row
    assert audit.verify(conn).ok
    conn.executescript("DROP TRIGGER audit_no_delete; DELETE FROM audit;")
    verdict = audit.verify(conn)
    assert not verdict.ok
    assert "emptied" in verdict.problem
    conn.close()


async def test_a_new_database_verifies(tmp_path: Path) -> None:
    async with Database(tmp_path / "b.db"):
        pass
    conn = sqlite3.connect(tmp_path / "b.db")
    conn.row_factory = sqlite3.Row
    assert audit.verify(conn).ok
    conn.close()
