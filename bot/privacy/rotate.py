"""Re-encrypt everything under the current data key, in small transactions.

Readers keep working throughout: the cipher holds the old keys too, and each batch is a short
transaction, so the service stays up. Address hashes are recomputed under the new key.
"""

from __future__ import annotations

import logging
import sqlite3

from bot import keycheck
from bot.crypto import Cipher
from bot.privacy.sealed import SEALED, Sealed
from bot.store import search
from bot.store.db import Database

log = logging.getLogger(__name__)
BATCH = 500


def _batch(conn: sqlite3.Connection, cipher: Cipher, sealed: Sealed,
           after: int) -> tuple[int, int]:
    """Re-seal up to BATCH rows with id > after; returns (rows changed, last id seen)."""
    table, column = sealed.table, sealed.column
    rows = conn.execute(
        f"SELECT *, rowid AS rowid_ FROM {table} WHERE rowid > ?"  # noqa: S608  # nosec B608
        " ORDER BY rowid LIMIT ?",
        (after, BATCH),
    ).fetchall()
    changed = 0
    for r in rows:
        blob = r[column]
        if not blob or blob[1:5] == cipher.current_key_id:
            continue
        context = sealed.ad_of(r)
        plain = cipher.open(blob, context)
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",  # noqa: S608  # nosec B608
                     (cipher.seal(plain, context), r["rowid_"]))
        if table == "addresses":
            conn.execute("UPDATE addresses SET address_hash = ? WHERE rowid = ?",
                         (cipher.address_hash(r["channel"], plain), r["rowid_"]))
        changed += 1
    return changed, rows[-1]["rowid_"] if rows else after


async def rotate(db: Database, cipher: Cipher) -> int:
    """Re-seal every encrypted value not yet under the current key; returns how many."""
    total = 0
    for sealed in SEALED:
        after = -1
        while True:
            def unit(c: sqlite3.Connection, s: Sealed = sealed, a: int = after) -> tuple[int, int]:
                return _batch(c, cipher, s, a)

            changed, last = await db.write(unit)
            total += changed
            if last == after:
                break
            after = last
    await db.write(lambda c: search.backfill(c, cipher))  # name hashes under the new key
    await db.write(lambda c: keycheck.seal(c, cipher))  # the start-up check: new key now
    log.info("key rotation re-sealed %d values", total)
    return total
