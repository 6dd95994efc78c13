"""What the case page shows of the relay (letters, the meeting script), read in its transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.relay import gate
from bot.store import scripts


@dataclass(frozen=True)
class CaseRelay:
    hold: gate.Hold | None  # why nothing moves, shown above the letters
    script_versions: list[scripts.Version]  # both sides, each its own document
    script_requests: list[scripts.Request]  # changes the person asked for, in their words


def for_case(conn: sqlite3.Connection, cipher: Cipher, case_id: int,
             person_id: int) -> CaseRelay:
    return CaseRelay(gate.hold_of(conn, person_id), scripts.versions(conn, cipher, case_id),
                     scripts.requests(conn, cipher, case_id))
