"""Migration 'bound': re-seal values written before they were bound to their rows.

Older databases sealed each column with a fixed context ("address", "message", ...), so a value
copied into another row still opened. On the first start with this version every such value
is opened with its old context and sealed again with its table, column and row (`sealed.ad`).
It runs once (a meta flag), inside the start-up key check's transaction.
"""

from __future__ import annotations

import logging
import sqlite3

from cryptography.exceptions import InvalidTag

from bot.crypto import Cipher
from bot.privacy.sealed import SEALED, Sealed
from bot.store.records import get_meta, set_meta

log = logging.getLogger(__name__)
DONE = "sealed_bound"


def _column(conn: sqlite3.Connection, cipher: Cipher, spec: Sealed) -> tuple[int, int]:
    """(re-sealed, left alone because neither context opens them) for one column."""
    moved = lost = 0
    rows = conn.execute(
        f"SELECT *, rowid AS rowid_ FROM {spec.table}"  # noqa: S608  # nosec B608
        f" WHERE length({spec.column}) > 0").fetchall()
    for r in rows:
        blob, bound = r[spec.column], spec.ad_of(r)
        try:
            cipher.open(blob, bound)
            continue  # already bound
        except InvalidTag:
            pass
        try:
            plain = cipher.open(blob, spec.context_for(r["rowid_"]))
        except InvalidTag:
            lost += 1  # refused when used: `sealed.Tampered`
            continue
        conn.execute(f"UPDATE {spec.table} SET {spec.column} = ? WHERE rowid = ?",  # noqa: S608  # nosec B608
                     (cipher.seal(plain, bound), r["rowid_"]))
        moved += 1
    return moved, lost


def rebind(conn: sqlite3.Connection, cipher: Cipher) -> int:
    """Bind every value to its row once; returns how many were re-sealed."""
    if get_meta(conn, DONE) is not None:
        return 0
    total = lost = 0
    for spec in SEALED:
        moved, bad = _column(conn, cipher, spec)
        total, lost = total + moved, lost + bad
    set_meta(conn, DONE, "1")
    if total or lost:
        log.warning("bound %d sealed values to their rows; %d did not open in their place",
                    total, lost)
    return total
