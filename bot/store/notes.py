"""Case notes and the contact log: a call, a video call, a visit, a message sent another way,
or a note, as a facilitator recorded it (issue 16).

Who wrote it and when it happened are plain; who else was there, what was said and what was
agreed are sealed to the row (bot.privacy.sealed), so erasure, key rotation and the person's
export cover them like every other sealed value. The same rules hold for the console and for
`::act case_note` in simulation: both call `check` and then `add`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import records

# how it happened, in the order the console offers them
HOW = ("phone", "video", "visit", "message", "note")
LIMITS = {"with": 300, "what": 4000, "agreed": 2000}
FUTURE_SLACK = 300.0  # a clock a few minutes fast is not "in the future"


class NoteError(ValueError):
    """A note that cannot be kept as it is; the message says what to change."""


@dataclass(frozen=True)
class Note:
    id: int
    case_id: int
    how: str
    happened_at: float
    created_at: float
    created_by: str
    fields: dict[str, str]  # with, what, agreed ("(erased)" after erasure)


def check(how: str, fields: dict[str, str], happened_at: float, now: float,
          opened_at: float) -> dict[str, str]:
    """The fields to keep, trimmed; `NoteError` saying what is wrong otherwise."""
    if how not in HOW:
        raise NoteError("Choose how it happened: phone, video, visit, message or note.")
    kept = {k: (fields.get(k) or "").strip() for k in LIMITS}
    for key, limit in LIMITS.items():
        if len(kept[key]) > limit:
            raise NoteError(f"That is too long: at most {limit} characters for '{key}'.")
    if not kept["what"] and not kept["agreed"]:
        raise NoteError("Write what happened or what was agreed.")
    if happened_at > now + FUTURE_SLACK:
        raise NoteError("A note records what has happened: the time cannot be in the future.")
    if happened_at < opened_at - FUTURE_SLACK:
        raise NoteError("That time is before the case was opened.")
    return kept


def add(conn: sqlite3.Connection, cipher: Cipher, case_id: int, how: str,
        fields: dict[str, str], happened_at: float, actor: str, now: float) -> int:
    """Keep a checked note and audit it (no words of it in the audit row); its id."""
    case = conn.execute("SELECT person_id FROM cases WHERE id = ?", (case_id,)).fetchone()
    if case is None:
        raise NoteError("No such case.")
    note_id = sealed.next_id(conn, "case_notes")
    body = sealed.seal(cipher, json.dumps(fields, ensure_ascii=False), "case_notes",
                       "body_enc", id=note_id, case_id=case_id)
    conn.execute("INSERT INTO case_notes (id, case_id, how, happened_at, created_at,"
                 " created_by, body_enc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (note_id, case_id, how, happened_at, now, actor, body))
    records.audit(conn, actor, "note_added", now, case["person_id"], case_id,
                  {"note": note_id, "how": how})
    return note_id


def of_case(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> list[Note]:
    """The case's notes, in the order they happened."""
    rows = conn.execute("SELECT * FROM case_notes WHERE case_id = ? ORDER BY happened_at, id",
                        (case_id,)).fetchall()
    return [_note(cipher, r) for r in rows]


def of_person(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> list[Note]:
    """Every note on the person's cases (their export)."""
    rows = conn.execute("SELECT * FROM case_notes WHERE case_id IN (SELECT id FROM cases"
                        " WHERE person_id = ?) ORDER BY happened_at, id", (person_id,))
    return [_note(cipher, r) for r in rows.fetchall()]


def _note(cipher: Cipher, row: sqlite3.Row) -> Note:
    blob = row["body_enc"]
    fields = (json.loads(sealed.open_in(cipher, blob, "case_notes", "body_enc", row)) if blob
              else {k: "(erased)" for k in LIMITS})
    return Note(row["id"], row["case_id"], row["how"], row["happened_at"], row["created_at"],
                row["created_by"], fields)
