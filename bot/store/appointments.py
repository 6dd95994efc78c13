"""One appointment's own record: did not happen (with an optional sealed reason), or moved.

Each first conversation and meeting is a row of `meetings`; what is recorded about one never
touches another. The time a row was read at (`was`) is its version: a form read before the
appointment moved changes nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.privacy import sealed


@dataclass(frozen=True)
class Appointment:
    id: int
    kind: str
    mode: str
    at: float
    held_at: float | None
    missed_at: float | None
    latest: bool  # the newest of its kind: the one the conversation (and its reminder) follows

    @property
    def recorded(self) -> bool:
        return self.held_at is not None or self.missed_at is not None


def find(conn: sqlite3.Connection, case_id: int, meeting_id: int) -> Appointment | None:
    row = conn.execute(
        "SELECT m.id, m.kind, m.mode, m.at, m.held_at, m.missed_at, m.id = (SELECT max(n.id)"
        " FROM meetings n WHERE n.case_id = m.case_id AND n.kind = m.kind) AS latest"
        " FROM meetings m WHERE m.id = ? AND m.case_id = ?", (meeting_id, case_id)).fetchone()
    return None if row is None else Appointment(**{**dict(row), "latest": bool(row["latest"])})


def record_missed(conn: sqlite3.Connection, cipher: Cipher, case_id: int, meeting_id: int,
                  was: float, reason: str, now: float) -> bool:
    """It did not happen: only once its time has come, if nothing was recorded about it yet
    and it is still at `was`. False (nothing written) otherwise."""
    reason_enc = sealed.seal(cipher, reason, "meetings", "missed_reason_enc", id=meeting_id,
                             case_id=case_id) if reason else None
    return conn.execute(
        "UPDATE meetings SET missed_at = ?, missed_reason_enc = ? WHERE id = ? AND case_id = ?"
        " AND held_at IS NULL AND missed_at IS NULL AND at <= ? AND abs(at - ?) < 1",
        (now, reason_enc, meeting_id, case_id, now, was)).rowcount == 1


def record_moved(conn: sqlite3.Connection, case_id: int, meeting_id: int, was: float,
                 at: float, now: float) -> bool:
    """Now at `at` (the time it left kept in moved_from), if still unrecorded and at `was`."""
    return conn.execute(
        "UPDATE meetings SET moved_from = at, at = ?, moved_at = ? WHERE id = ? AND"
        " case_id = ? AND held_at IS NULL AND missed_at IS NULL AND abs(at - ?) < 1",
        (at, now, meeting_id, case_id, was)).rowcount == 1
