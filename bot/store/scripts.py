"""The meeting script: one document per side of a case, every version kept, encrypted.

`side` is "victim" (the person harmed's copy, shown to them through the bot) or "other" (the
other party's copy, which a facilitator hands over). They are separate documents, so nothing
written for one side (a contact detail, a name) is in the other's. A person's request for a
change is kept in their own words, encrypted, against the version they read.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from bot.crypto import Cipher
from bot.privacy import sealed

Side = Literal["victim", "other"]
SIDES: tuple[Side, ...] = ("victim", "other")


@dataclass(frozen=True)
class Version:
    script_id: int
    side: str
    number: int
    body: str
    author: str
    created_at: float
    announced_at: float | None
    read_at: float | None


@dataclass(frozen=True)
class Request:
    id: int
    script_id: int
    version: int
    body: str
    created_at: float


def _script(conn: sqlite3.Connection, case_id: int, side: Side) -> int | None:
    row = conn.execute("SELECT id FROM scripts WHERE case_id = ? AND side = ?",
                       (case_id, side)).fetchone()
    return int(row["id"]) if row else None


def add_version(conn: sqlite3.Connection, cipher: Cipher, *, case_id: int, person_id: int,
                side: Side, body: str, author: str, now: float) -> tuple[int, int]:
    """A new version of this side's script (the script is made with its first); (id, number)."""
    script_id = _script(conn, case_id, side)
    if script_id is None:
        made = conn.execute("INSERT INTO scripts (case_id, person_id, side, created_at,"
                            " updated_at) VALUES (?, ?, ?, ?, ?)",
                            (case_id, person_id, side, now, now)).lastrowid
        assert made is not None
        script_id = int(made)
    number = conn.execute("SELECT coalesce(max(number), 0) + 1 FROM script_versions"
                          " WHERE script_id = ?", (script_id,)).fetchone()[0]
    row_id = sealed.next_id(conn, "script_versions")
    conn.execute("INSERT INTO script_versions (id, script_id, number, body_enc, author,"
                 " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (row_id, script_id, number,
                  sealed.seal(cipher, body, "script_versions", "body_enc", id=row_id,
                              script_id=script_id), author, now))
    conn.execute("UPDATE scripts SET updated_at = ? WHERE id = ?", (now, script_id))
    return script_id, int(number)


def _open(cipher: Cipher, row: sqlite3.Row, table: str) -> str:
    blob = row["body_enc"]
    return sealed.open_in(cipher, blob, table, "body_enc", row) if blob else ""


def versions(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> list[Version]:
    """Every version of both sides' scripts for a case, side by side, oldest first."""
    rows = conn.execute(
        "SELECT v.*, s.side FROM script_versions v JOIN scripts s ON s.id = v.script_id"
        " WHERE s.case_id = ? ORDER BY s.side DESC, v.number", (case_id,)).fetchall()
    return [Version(r["script_id"], r["side"], r["number"], _open(cipher, r, "script_versions"),
                    r["author"], r["created_at"], r["announced_at"], r["read_at"])
            for r in rows]


def version(conn: sqlite3.Connection, cipher: Cipher, script_id: int,
            number: int) -> Version | None:
    row = conn.execute(
        "SELECT v.*, s.side FROM script_versions v JOIN scripts s ON s.id = v.script_id"
        " WHERE v.script_id = ? AND v.number = ?", (script_id, number)).fetchone()
    if row is None:
        return None
    return Version(row["script_id"], row["side"], row["number"],
                   _open(cipher, row, "script_versions"), row["author"], row["created_at"],
                   row["announced_at"], row["read_at"])


def owner(conn: sqlite3.Connection, script_id: int) -> tuple[int, int, str] | None:
    """(person, case, side) of a script."""
    row = conn.execute("SELECT person_id, case_id, side FROM scripts WHERE id = ?",
                       (script_id,)).fetchone()
    return (int(row["person_id"]), int(row["case_id"]), str(row["side"])) if row else None


def mark(conn: sqlite3.Connection, script_id: int, number: int, column: str, now: float) -> None:
    assert column in ("announced_at", "read_at")
    conn.execute(f"UPDATE script_versions SET {column} = coalesce({column}, ?)"  # noqa: S608  # nosec B608
                 " WHERE script_id = ? AND number = ?", (now, script_id, number))


def add_request(conn: sqlite3.Connection, cipher: Cipher, script_id: int, number: int,
                text: str, now: float) -> int:
    row_id = sealed.next_id(conn, "script_requests")
    conn.execute("INSERT INTO script_requests (id, script_id, version, body_enc, created_at)"
                 " VALUES (?, ?, ?, ?, ?)",
                 (row_id, script_id, number,
                  sealed.seal(cipher, text, "script_requests", "body_enc", id=row_id,
                              script_id=script_id), now))
    return row_id


def requests(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> list[Request]:
    rows = conn.execute(
        "SELECT r.* FROM script_requests r JOIN scripts s ON s.id = r.script_id"
        " WHERE s.case_id = ? ORDER BY r.id", (case_id,)).fetchall()
    return [Request(r["id"], r["script_id"], r["version"],
                    _open(cipher, r, "script_requests"), r["created_at"])
            for r in rows]
