"""Staff accounts, console sessions and case assignments (failed logins: bot.store.logins).

Plain functions of a sqlite3 connection, run inside a Database unit. Session ids are stored
only as hashes, so a copy of the database cannot be used to take over a live session.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

MAX_PER_CASE = 2  # DESIGN: two facilitators per case


@dataclass(frozen=True)
class Facilitator:
    id: int
    email: str
    name: str
    supervisor: bool
    active: bool


def _facilitator(row: sqlite3.Row) -> Facilitator:
    return Facilitator(row["id"], row["email"], row["name"], bool(row["supervisor"]),
                       bool(row["active"]))


def norm_email(email: str) -> str:
    """Emails are compared without case or surrounding space (at most 200 characters)."""
    return email.strip().lower()[:200]


def add(conn: sqlite3.Connection, email: str, name: str, password_hash: str,
        supervisor: bool, now: float) -> int:
    """Create an account, or reset the name, password and role of an existing one (a reset
    also signs the account out everywhere: whoever held the old password loses their session)."""
    email = norm_email(email)
    conn.execute(
        "DELETE FROM console_sessions WHERE facilitator_id IN"
        " (SELECT id FROM facilitators WHERE email = ?)", (email,))
    conn.execute(
        "INSERT INTO facilitators (email, name, password_hash, supervisor, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET name = excluded.name,"
        " password_hash = excluded.password_hash, supervisor = excluded.supervisor, active = 1",
        (email, name.strip(), password_hash, int(supervisor), now),
    )
    row = conn.execute("SELECT id FROM facilitators WHERE email = ?", (email,)).fetchone()
    return int(row["id"])


def credentials(conn: sqlite3.Connection, email: str) -> tuple[Facilitator, str] | None:
    """The active account for an email and its password hash, for checking a login."""
    row = conn.execute(
        "SELECT * FROM facilitators WHERE email = ? AND active = 1", (norm_email(email),)
    ).fetchone()
    return (_facilitator(row), row["password_hash"]) if row else None


def set_password_hash(conn: sqlite3.Connection, facilitator_id: int, password_hash: str) -> None:
    conn.execute("UPDATE facilitators SET password_hash = ? WHERE id = ?",
                 (password_hash, facilitator_id))


def get(conn: sqlite3.Connection, facilitator_id: int) -> Facilitator | None:
    row = conn.execute("SELECT * FROM facilitators WHERE id = ?", (facilitator_id,)).fetchone()
    return _facilitator(row) if row else None


def by_email(conn: sqlite3.Connection, email: str) -> Facilitator | None:
    row = conn.execute("SELECT * FROM facilitators WHERE email = ?",
                       (norm_email(email),)).fetchone()
    return _facilitator(row) if row else None


def everyone(conn: sqlite3.Connection) -> list[Facilitator]:
    """Every account, active ones first (the supervisors' Accounts page)."""
    rows = conn.execute("SELECT * FROM facilitators ORDER BY active DESC, name, id")
    return [_facilitator(r) for r in rows]


def disable(conn: sqlite3.Connection, facilitator_id: int) -> None:
    """A leaver: every session ends now and sign-in is refused (`add` enables it again)."""
    conn.execute("UPDATE facilitators SET active = 0 WHERE id = ?", (facilitator_id,))
    conn.execute("DELETE FROM console_sessions WHERE facilitator_id = ?", (facilitator_id,))


def all_active(conn: sqlite3.Connection) -> list[Facilitator]:
    rows = conn.execute("SELECT * FROM facilitators WHERE active = 1 ORDER BY name, id")
    return [_facilitator(r) for r in rows]


# ---- sessions ----


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def open_session(conn: sqlite3.Connection, token: str, facilitator_id: int, now: float,
                 lifetime: float) -> None:
    conn.execute(
        "INSERT INTO console_sessions (id_hash, facilitator_id, created_at, seen_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash(token), facilitator_id, now, now, now + lifetime),
    )


def session_user(conn: sqlite3.Connection, token: str, now: float,
                 idle: float) -> tuple[Facilitator, float] | None:
    """The account behind a live session token, and when the session was last seen."""
    row = conn.execute(
        "SELECT f.*, s.seen_at FROM console_sessions s JOIN facilitators f"
        " ON f.id = s.facilitator_id WHERE s.id_hash = ? AND s.expires_at > ?"
        " AND s.seen_at > ? AND f.active = 1",
        (token_hash(token), now, now - idle),
    ).fetchone()
    return (_facilitator(row), float(row["seen_at"])) if row else None


def touch_session(conn: sqlite3.Connection, token: str, now: float) -> None:
    conn.execute("UPDATE console_sessions SET seen_at = ? WHERE id_hash = ?",
                 (now, token_hash(token)))


def close_session(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM console_sessions WHERE id_hash = ?", (token_hash(token),))


def purge_sessions(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))


# ---- assignments ----


def assigned(conn: sqlite3.Connection, case_id: int) -> list[Facilitator]:
    rows = conn.execute(
        "SELECT f.* FROM case_assignments a JOIN facilitators f ON f.id = a.facilitator_id"
        " WHERE a.case_id = ? ORDER BY a.assigned_at, f.id",
        (case_id,),
    )
    return [_facilitator(r) for r in rows]


def is_assigned(conn: sqlite3.Connection, case_id: int, facilitator_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM case_assignments WHERE case_id = ? AND facilitator_id = ?",
        (case_id, facilitator_id),
    ).fetchone()
    return row is not None


def assign(conn: sqlite3.Connection, case_id: int, facilitator_ids: list[int], by: str,
           now: float) -> None:
    """Replace the case's facilitators (at most two, distinct, active)."""
    ids = list(dict.fromkeys(facilitator_ids))
    if len(ids) > MAX_PER_CASE:
        raise ValueError("at most two facilitators per case")
    for fid in ids:
        found = get(conn, fid)
        if found is None or not found.active:
            raise ValueError("unknown facilitator")
    conn.execute("DELETE FROM case_assignments WHERE case_id = ?", (case_id,))
    conn.executemany(
        "INSERT INTO case_assignments (case_id, facilitator_id, assigned_at, assigned_by)"
        " VALUES (?, ?, ?, ?)",
        [(case_id, fid, now, by) for fid in ids],
    )
