"""The append-only, hash-chained audit log: who did what and when, never the content.

Each row's hash covers its fields and the previous row's hash, and the newest hash is kept in
meta, so an edited, inserted or deleted row (even the last one) breaks `rjbot audit verify`.
Triggers refuse UPDATE and DELETE outright.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def _digest(row: tuple[Any, ...], prev: str) -> str:
    body = json.dumps([*row, prev], separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    conn: sqlite3.Connection, actor: str, action: str, now: float,
    person_id: int | None = None, case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    row_id, prev = (last["id"] + 1, last["hash"]) if last else (1, GENESIS)
    text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"))
    fields = (row_id, now, actor, action, person_id, case_id, text)
    digest = _digest(fields, prev)
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
        if r["prev_hash"] != prev or _digest(fields, prev) != r["hash"]:
            return Verdict(False, rows, prev, f"row {r['id']} was altered")
        prev, rows, expected_id = r["hash"], rows + 1, expected_id + 1
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if rows and (head is None or head["value"] != prev):
        return Verdict(False, rows, prev, "the newest rows were removed")
    if not rows and head is not None and head["value"] != GENESIS:
        return Verdict(False, rows, prev, "the audit log was emptied")
    return Verdict(True, rows, prev)
