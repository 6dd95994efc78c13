"""Refuse to run on a database sealed with another data key, rather than mix two keys.

Without this, a lost `RJBOT_DATA_KEY` (or a deleted key file) would make the embedded default
create a fresh key: the service would start, find nobody (address hashes are keyed), write new
data under the new key and leave everything earlier unreadable. A small sealed value in meta
proves the key at start-up; `rotate-key` re-seals it under the new key when it finishes.
"""

from __future__ import annotations

import base64
import sqlite3

from bot.crypto import Cipher, DataKeyError
from bot.store.records import get_meta, set_meta

META_KEY = "key_check"
SEALING_KEY = "sealing_key_id"  # the key a running service seals with (key-file rotation)
CONTEXT = "key_check"
PLAIN = "rjbot data key check"


def seal(conn: sqlite3.Connection, cipher: Cipher) -> None:
    set_meta(conn, META_KEY, base64.b64encode(cipher.seal(PLAIN, CONTEXT)).decode())


def check(conn: sqlite3.Connection, cipher: Cipher) -> None:
    """Seal the check on a new database; on an old one, raise unless a key we hold opens it."""
    stored = get_meta(conn, META_KEY)
    if stored is None:
        seal(conn, cipher)
        return
    try:
        ok = cipher.open(base64.b64decode(stored), CONTEXT) == PLAIN
    except Exception as exc:  # a wrong key fails authentication (InvalidTag) or is unknown
        raise DataKeyError(_WRONG) from exc
    if not ok:
        raise DataKeyError(_WRONG)


def hold_sealing_key(conn: sqlite3.Connection, cipher: Cipher) -> None:
    """A starting service says which key it seals with, until it stops."""
    set_meta(conn, SEALING_KEY, cipher.current_key_id.hex())


def release_sealing_key(conn: sqlite3.Connection, cipher: Cipher) -> None:
    if get_meta(conn, SEALING_KEY) == cipher.current_key_id.hex():
        conn.execute("DELETE FROM meta WHERE key = ?", (SEALING_KEY,))


def sealing_elsewhere(conn: sqlite3.Connection, cipher: Cipher) -> bool:
    """Whether a running (or crashed, never restarted) service seals with another key."""
    held = get_meta(conn, SEALING_KEY)
    return held is not None and held != cipher.current_key_id.hex()


_WRONG = (
    "this database was written with a different data key: set RJBOT_DATA_KEY to the key it "
    "was created with, or restore its key file (nothing was changed)"
)


def open_with(conn: sqlite3.Connection, cipher: Cipher) -> None:
    """A service opening the database: prove the key, then say which key it seals with."""
    check(conn, cipher)
    hold_sealing_key(conn, cipher)
