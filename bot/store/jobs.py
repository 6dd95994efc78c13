"""The jobs table is the truth about what is scheduled; timers in memory only wake us."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.store import locks

_DATA_JSON = json.JSONEncoder(sort_keys=True)  # made once, not per json.dumps call


@dataclass(frozen=True)
class JobRow:
    id: int
    person_id: int | None
    kind: str
    due_at: float
    data: dict[str, Any]


def schedule(
    conn: sqlite3.Connection, *, person_id: int | None, kind: str, due_at: float, now: float,
    key: str = "", data: dict[str, Any] | None = None,
) -> int:
    """Create a job; a pending job with the same person and key is replaced."""
    if key:
        conn.execute(
            "UPDATE jobs SET status = 'cancelled', done_at = ? WHERE person_id IS ?"
            " AND key = ? AND status = 'pending'",
            (now, person_id, key),
        )
    job_id = conn.execute(
        "INSERT INTO jobs (person_id, kind, key, due_at, data, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (person_id, kind, key, due_at, _DATA_JSON.encode(data or {}), now),
    ).lastrowid
    assert job_id is not None
    return job_id


def cancel(
    conn: sqlite3.Connection, person_id: int, now: float, kinds: tuple[str, ...] = (),
    key: str = "",
) -> int:
    sql = "UPDATE jobs SET status = 'cancelled', done_at = ? WHERE person_id = ?"
    sql += " AND status = 'pending'"
    params: list[Any] = [now, person_id]
    if kinds:
        sql += f" AND kind IN ({','.join('?' * len(kinds))})"
        params.extend(kinds)
    if key:
        sql += " AND key = ?"
        params.append(key)
    return conn.execute(sql, params).rowcount


def claim(conn: sqlite3.Connection, job_id: int, now: float) -> JobRow | None:
    """Take a due job for firing; None if it was already fired or cancelled.

    Claiming and firing happen in the same transaction as the job's effects, so a crash
    either loses both (the job fires again after restart) or keeps both (it never refires).
    """
    row = conn.execute(
        "SELECT * FROM jobs WHERE id = ? AND status = 'pending' AND held_at IS NULL"  # noqa: S608  # nosec B608
        " AND due_at <= ?" + locks.skip_locked(conn),  # no input: a fixed clause or ""
        (job_id, now),
    ).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE jobs SET status = 'done', done_at = ? WHERE id = ?", (now, job_id))
    return JobRow(row["id"], row["person_id"], row["kind"], row["due_at"], json.loads(row["data"]))


def due(conn: sqlite3.Connection, now: float, limit: int = 500) -> list[tuple[int, float]]:
    rows = conn.execute(
        "SELECT id, due_at FROM jobs WHERE status = 'pending' AND held_at IS NULL"
        " AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        (now, limit),
    ).fetchall()
    return [(r["id"], r["due_at"]) for r in rows]


def pending(
    conn: sqlite3.Connection, after: float = float("-inf"), until: float = float("inf")
) -> list[tuple[int, float]]:
    """Pending (not held) jobs due in (after, until]: what the runner loads into memory."""
    rows = conn.execute(
        "SELECT id, due_at FROM jobs WHERE status = 'pending' AND held_at IS NULL"
        " AND due_at > ? AND due_at <= ? ORDER BY due_at, id",
        (after, until),
    ).fetchall()
    return [(r["id"], r["due_at"]) for r in rows]


def next_due(conn: sqlite3.Connection) -> float | None:
    row = conn.execute(
        "SELECT min(due_at) AS due FROM jobs WHERE status = 'pending' AND held_at IS NULL"
    ).fetchone()
    return row["due"] if row and row["due"] is not None else None


def move(conn: sqlite3.Connection, job_id: int, due_at: float) -> None:
    """Put a claimed job back, due later (it came due outside its person's safe time)."""
    conn.execute(
        "UPDATE jobs SET status = 'pending', due_at = ?, done_at = NULL WHERE id = ?",
        (due_at, job_id),
    )


def hold(conn: sqlite3.Connection, job_id: int, now: float) -> None:
    """Put a claimed job back, held: its person has paused, so it waits for RESUME."""
    conn.execute(
        "UPDATE jobs SET status = 'pending', held_at = ?, done_at = NULL WHERE id = ?",
        (now, job_id),
    )


def release_held(
    conn: sqlite3.Connection, person_id: int, at: float
) -> list[tuple[int, float]]:
    """The person resumed: held jobs become due again, no earlier than `at`."""
    rows = conn.execute(
        "UPDATE jobs SET held_at = NULL, due_at = max(due_at, ?) WHERE person_id = ?"
        " AND status = 'pending' AND held_at IS NOT NULL RETURNING id, due_at",
        (at, person_id),
    ).fetchall()
    return sorted((r["id"], r["due_at"]) for r in rows)
