"""Letters passed through the facilitators, in both directions, with every version kept.

A letter's status: draft (the person is still writing), pending_review, edit_proposed (waiting
for the author), approved, delivered (to the other party, on paper), read or declined (by the
person harmed), withheld (they withdrew first), cancelled. Bodies and reasons are encrypted;
status, authors and times are not personal. Audit rows name letters and versions, never text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from bot.crypto import Cipher
from bot.privacy import sealed

Direction = Literal["to_other", "to_victim"]
REVIEWABLE = ("pending_review",)


@dataclass(frozen=True)
class Version:
    number: int
    body: str
    reason: str
    author_kind: str
    author: str
    status: str  # draft, submitted, proposed, accepted, rejected
    created_at: float
    decided_at: float | None


@dataclass(frozen=True)
class Letter:
    id: int
    person_id: int
    case_id: int | None
    direction: str
    status: str
    created_by: str
    created_at: float
    updated_at: float
    approved_version: int | None
    approved_by: str | None
    approved_at: float | None
    delivered_by: str | None
    delivered_at: float | None
    delivered_on: str | None
    announced_at: float | None
    read_at: float | None


def get(conn: sqlite3.Connection, letter_id: int) -> Letter | None:
    row = conn.execute("SELECT * FROM letters WHERE id = ?", (letter_id,)).fetchone()
    return Letter(**dict(row)) if row else None


def versions(conn: sqlite3.Connection, cipher: Cipher, letter_id: int) -> list[Version]:
    rows = conn.execute("SELECT * FROM letter_versions WHERE letter_id = ? ORDER BY number",
                        (letter_id,)).fetchall()
    return [Version(r["number"], _open(cipher, r, "body_enc"),
                    _open(cipher, r, "reason_enc"), r["author_kind"],
                    r["author"], r["status"], r["created_at"], r["decided_at"]) for r in rows]


def _open(cipher: Cipher, row: sqlite3.Row, column: str) -> str:
    blob = row[column]
    return sealed.open_in(cipher, blob, "letter_versions", column, row) if blob else ""


def current(conn: sqlite3.Connection, cipher: Cipher, letter_id: int) -> Version | None:
    """The wording that stands: the latest version its author wrote or agreed to."""
    standing = [v for v in versions(conn, cipher, letter_id)
                if v.status in ("draft", "submitted", "accepted")]
    return standing[-1] if standing else None


def proposed(conn: sqlite3.Connection, cipher: Cipher, letter_id: int) -> Version | None:
    found = [v for v in versions(conn, cipher, letter_id) if v.status == "proposed"]
    return found[-1] if found else None


def create(conn: sqlite3.Connection, cipher: Cipher, *, person_id: int, case_id: int | None,
           direction: Direction, status: str, body: str, author_kind: str, author: str,
           version_status: str, now: float) -> int:
    letter_id = conn.execute(
        "INSERT INTO letters (person_id, case_id, direction, status, created_by, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (person_id, case_id, direction, status, author, now, now),
    ).lastrowid
    assert letter_id is not None
    add_version(conn, cipher, letter_id, body, author_kind, author, version_status, now)
    return letter_id


def add_version(conn: sqlite3.Connection, cipher: Cipher, letter_id: int, body: str,
                author_kind: str, author: str, status: str, now: float,
                reason: str = "") -> int:
    number = conn.execute("SELECT coalesce(max(number), 0) + 1 FROM letter_versions"
                          " WHERE letter_id = ?", (letter_id,)).fetchone()[0]
    row_id = sealed.next_id(conn, "letter_versions")
    conn.execute(
        "INSERT INTO letter_versions (id, letter_id, number, body_enc, reason_enc, author_kind,"
        " author, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, letter_id, number,
         sealed.seal(cipher, body, "letter_versions", "body_enc", id=row_id,
                     letter_id=letter_id),
         sealed.seal(cipher, reason, "letter_versions", "reason_enc", id=row_id,
                     letter_id=letter_id) if reason else None,
         author_kind, author, status, now),
    )
    return int(number)


def set_status(conn: sqlite3.Connection, letter_id: int, status: str, now: float,
               **fields: object) -> None:
    sets = "".join(f", {name} = ?" for name in fields)
    conn.execute(f"UPDATE letters SET status = ?, updated_at = ?{sets} WHERE id = ?",  # noqa: S608  # nosec B608
                 (status, now, *fields.values(), letter_id))


def decide_version(conn: sqlite3.Connection, letter_id: int, number: int, status: str,
                   now: float) -> None:
    conn.execute("UPDATE letter_versions SET status = ?, decided_at = ? WHERE letter_id = ?"
                 " AND number = ?", (status, now, letter_id, number))


# ---- the person's draft (written in several messages) ----


def draft(conn: sqlite3.Connection, person_id: int) -> int | None:
    row = conn.execute("SELECT id FROM letters WHERE person_id = ? AND status = 'draft'"
                       " ORDER BY id DESC LIMIT 1", (person_id,)).fetchone()
    return int(row["id"]) if row else None


def append_part(conn: sqlite3.Connection, cipher: Cipher, person_id: int, case_id: int | None,
                text: str, now: float) -> tuple[int, bool]:
    """Add a part to the person's draft (made if there is none); (letter id, new draft?)."""
    letter_id = draft(conn, person_id)
    if letter_id is None:
        return create(conn, cipher, person_id=person_id, case_id=case_id,
                      direction="to_other", status="draft", body=text, author_kind="victim",
                      author="person", version_status="draft", now=now), True
    row = conn.execute("SELECT id, letter_id, body_enc FROM letter_versions"
                       " WHERE letter_id = ? AND number = 1", (letter_id,)).fetchone()
    body = _open(cipher, row, "body_enc")
    joined = f"{body}\n\n{text}" if body else text
    conn.execute("UPDATE letter_versions SET body_enc = ? WHERE id = ?",
                 (sealed.seal(cipher, joined, "letter_versions", "body_enc", id=row["id"],
                              letter_id=letter_id), row["id"]))
    conn.execute("UPDATE letters SET updated_at = ? WHERE id = ?", (now, letter_id))
    return letter_id, False


# ---- what the console lists ----


@dataclass(frozen=True)
class QueueRow:
    id: int
    case_id: int | None
    direction: str
    status: str
    updated_at: float


def queue(conn: sqlite3.Connection, user_id: int | None,
          statuses: tuple[str, ...] = ("pending_review", "edit_proposed")) -> list[QueueRow]:
    """Letters waiting for a facilitator (or an author), oldest first; no personal content."""
    marks = ",".join("?" * len(statuses))
    sql = (f"SELECT l.id, l.case_id, l.direction, l.status, l.updated_at FROM letters l"  # noqa: S608  # nosec B608
           f" WHERE l.status IN ({marks})")
    params: list[object] = list(statuses)
    if user_id is not None:
        sql += (" AND EXISTS (SELECT 1 FROM case_assignments x WHERE x.case_id = l.case_id"
                " AND x.facilitator_id = ?)")
        params.append(user_id)
    return [QueueRow(**dict(r)) for r in conn.execute(sql + " ORDER BY l.updated_at, l.id",
                                                      params)]


def for_case(conn: sqlite3.Connection, case_id: int) -> list[QueueRow]:
    rows = conn.execute("SELECT id, case_id, direction, status, updated_at FROM letters"
                        " WHERE case_id = ? AND status != 'draft' ORDER BY id", (case_id,))
    return [QueueRow(**dict(r)) for r in rows]
