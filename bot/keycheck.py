"""Refuse to run on a database sealed with another data key, rather than mix two keys.

Without this, a lost `RJBOT_DATA_KEY` (or a deleted key file) would make the embedded default
create a fresh key: the service would start, find nobody (address hashes are keyed), write new
data under the new key and leave everything earlier unreadable. A small sealed value in meta
proves the key at start-up; `rotate-key` re-seals it under the new key when it finishes.

The same sealed value carries the audit chain's MAC key (derived from the data key when the
chain was first keyed) and the first row it covers, so rotating the data key leaves the chain
verifiable and nobody without the key can read or replace the MAC key.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from bot.crypto import Cipher, DataKeyError
from bot.privacy import rebind
from bot.store import audit
from bot.store.records import get_meta, set_meta

META_KEY = "key_check"
SEALING_KEY = "sealing_key_id"  # the key a running service seals with (key-file rotation)
CONTEXT = "key_check"
PLAIN = "rjbot data key check"


def _stored(conn: sqlite3.Connection, cipher: Cipher) -> dict[str, Any] | None:
    """The sealed check's contents (None on a new database); raises on a key we lack."""
    stored = get_meta(conn, META_KEY)
    if stored is None:
        return None
    try:
        text = cipher.open(base64.b64decode(stored), CONTEXT)
        found: dict[str, Any] = {"check": PLAIN} if text == PLAIN else json.loads(text)
    except Exception as exc:  # a wrong key fails authentication (InvalidTag) or is unknown
        raise DataKeyError(_WRONG) from exc
    if found.get("check") != PLAIN:
        raise DataKeyError(_WRONG)
    return found


def opened(conn: sqlite3.Connection, cipher: Cipher) -> dict[str, Any] | None:
    """Read-only: the check's contents (None if never sealed); DataKeyError for a wrong key."""
    return _stored(conn, cipher)


def seal(conn: sqlite3.Connection, cipher: Cipher, found: dict[str, Any] | None = None) -> None:
    """Seal the check (and the audit MAC key it carries) under the current key."""
    found = found or _stored(conn, cipher) or {"check": PLAIN}
    text = json.dumps(found, sort_keys=True)
    set_meta(conn, META_KEY, base64.b64encode(cipher.seal(text, CONTEXT)).decode())


def check(conn: sqlite3.Connection, cipher: Cipher) -> None:
    """Seal the check on a new database; on an old one, raise unless a key we hold opens it.
    Then key the audit chain (from the next row, on a database from before keying) and bind
    older sealed values to their rows."""
    found = _stored(conn, cipher) or {"check": PLAIN}
    if "audit_key" not in found:
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM audit").fetchone()[0]
        found = {**found, "audit_key": base64.b64encode(cipher.derive("audit chain")).decode(),
                 "audit_from": int(first)}
        seal(conn, cipher, found)
    audit.use_key(conn, base64.b64decode(found["audit_key"]), int(found["audit_from"]))
    rebind.rebind(conn, cipher)


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
