"""The append-only, HMAC-chained audit log: who did what and when, never the content.

Each row's MAC covers its fields and the previous row's MAC, and the newest is kept in meta, so
an edited, inserted or deleted row (even the last one) breaks `rjbot audit verify`. Triggers
refuse UPDATE and DELETE outright. The MAC key is derived from the data key (`bot.keycheck`
keeps it sealed in the database, so it survives key rotation): someone with the file but not
the key cannot rewrite a row and recompute the chain, as they could with plain SHA-256. Rows
written before the chain was keyed (`first` of `use_key`) keep their SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
KEYED = "audit_keyed"  # set once the chain is keyed: from then on a keyless writer is refused
_KEYS: dict[str, tuple[bytes, int]] = {}  # database file -> (MAC key, first keyed row)
# made once (json.dumps with options builds a new encoder on every call); the same text
_DETAIL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _file(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA database_list").fetchone()[2])


def use_key(conn: sqlite3.Connection, key: bytes, first: int, record: bool = True) -> None:
    """Chain rows from `first` on with an HMAC under `key` (the data key proved it); with
    record=False only for this process (a read-only connection: `rjbot migrate-db`)."""
    _KEYS[_file(conn)] = (key, first)
    if record:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                     (KEYED, str(first)))


def key_of(conn: sqlite3.Connection) -> tuple[bytes, int] | None:
    """The MAC key and first keyed row this process uses for the connection's database."""
    return _KEYS.get(_file(conn))


_key = key_of


def _is_keyed(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key = ?", (KEYED,)).fetchone() is not None


def _digest(row: tuple[Any, ...], prev: str, key: bytes | None = None) -> str:
    body = _DETAIL_JSON.encode([*row, prev])  # ensure_ascii, as json.dumps's default
    if key is None:
        return hashlib.sha256(body.encode()).hexdigest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _mac_key(keyed: tuple[bytes, int] | None, row_id: int) -> bytes | None:
    return keyed[0] if keyed is not None and row_id >= keyed[1] else None


def append(
    conn: sqlite3.Connection, actor: str, action: str, now: float,
    person_id: int | None = None, case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    keyed = _key(conn)
    if keyed is None and _is_keyed(conn):
        raise RuntimeError("the audit log is keyed: open the database with its data key")
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    row_id, prev = (last["id"] + 1, last["hash"]) if last else (1, GENESIS)
    text = _DETAIL_JSON.encode(detail or {})
    fields = (row_id, now, actor, action, person_id, case_id, text)
    digest = _digest(fields, prev, _mac_key(keyed, row_id))
    conn.execute(
        "INSERT INTO audit (id, at, actor, action, person_id, case_id, detail, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*fields, prev, digest),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, digest),
    )
    return row_id


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    head: str
    problem: str = ""


def verify(conn: sqlite3.Connection) -> Verdict:
    """Walk the chain from the first row; report the first row that does not fit."""
    keyed = _key(conn)
    if keyed is None and _is_keyed(conn):
        return Verdict(False, 0, GENESIS, "the audit log is keyed and this check has no data key"
                       " (set RJBOT_DATA_KEY or keep the key file beside the database)")
    prev, rows = GENESIS, 0
    expected_id = 1
    cur = conn.execute(
        "SELECT id, at, actor, action, person_id, case_id, detail, prev_hash, hash"
        " FROM audit ORDER BY id"
    )
    for r in cur:
        fields = tuple(r)[:7]
        if r["id"] != expected_id:
            return Verdict(False, rows, prev, f"row {expected_id} is missing")
        digest = _digest(fields, prev, _mac_key(keyed, r["id"]))
        if r["prev_hash"] != prev or not hmac.compare_digest(digest, r["hash"]):
            return Verdict(False, rows, prev, f"row {r['id']} was altered")
        prev, rows, expected_id = r["hash"], rows + 1, expected_id + 1
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if rows and (head is None or head["value"] != prev):
        return Verdict(False, rows, prev, "the newest rows were removed")
    if not rows and head is not None and head["value"] != GENESIS:
        return Verdict(False, rows, prev, "the audit log was emptied")
    return Verdict(True, rows, prev)
