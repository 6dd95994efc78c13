"""Consent gates the process: once the person harmed withdraws (WITHDRAW) or takes their
consent back (WITHDRAW CONSENT), nothing from the other party is approved, announced or
delivered, and nothing of theirs is passed on. Letters waiting at that moment are `held`;
a new consent (after START, if they withdrew) puts them back in the review queue, where a
facilitator approves them again before anything moves.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.store import letters, records

WAITING = ("pending_review", "approved")  # what is held: reviewed or about to be passed on
REASONS = {
    "withdrawn": "The person harmed withdrew (WITHDRAW)",
    "returned": "The person harmed withdrew (WITHDRAW) and came back, but has not given "
                "consent again",
    "consent_withdrawn": "The person harmed took back their consent (WITHDRAW CONSENT)",
}


@dataclass(frozen=True)
class Hold:
    """Why nothing moves on this person's letters, and since when."""

    reason: str  # a key of REASONS
    since: float | None

    @property
    def label(self) -> str:
        return REASONS[self.reason]


def hold_of(conn: sqlite3.Connection, person_id: int) -> Hold | None:
    """The hold on this person's letters, if any: withdrawn, consent taken back and not given
    again, or letters still held from a withdrawal they came back from without new consent."""
    person = conn.execute("SELECT status FROM people WHERE id = ?", (person_id,)).fetchone()
    last = conn.execute("SELECT action, at FROM audit WHERE person_id = ? AND action IN"
                        " ('withdrawn', 'consent_withdrawn') ORDER BY id DESC LIMIT 1",
                        (person_id,)).fetchone()
    since = float(last["at"]) if last is not None else None
    if person is None or person["status"] == "withdrawn":
        return Hold("withdrawn", since)
    consent = conn.execute("SELECT withdrawn_at FROM consents WHERE person_id = ?"
                           " ORDER BY agreed_at DESC, id DESC LIMIT 1", (person_id,)).fetchone()
    taken_back = consent is not None and consent["withdrawn_at"] is not None
    if not taken_back and conn.execute(
            "SELECT 1 FROM letters WHERE person_id = ? AND status = 'held' LIMIT 1",
            (person_id,)).fetchone() is None:
        return None
    came_back = last is not None and last["action"] == "withdrawn"
    return Hold("returned" if came_back else "consent_withdrawn", since)


def waiting_status(conn: sqlite3.Connection, person_id: int) -> str:
    """Where a letter goes when it is ready for review: the queue, or held."""
    return "held" if hold_of(conn, person_id) is not None else "pending_review"


def hold(conn: sqlite3.Connection, person_id: int, reason: str, actor: str, ts: float) -> None:
    """Hold every letter of this person that is waiting for review or to be passed on."""
    marks = ",".join("?" * len(WAITING))
    rows = conn.execute(f"SELECT id, case_id, status FROM letters WHERE person_id = ?"  # noqa: S608  # nosec B608
                        f" AND status IN ({marks}) ORDER BY id", (person_id, *WAITING)).fetchall()
    for row in rows:
        letters.set_status(conn, row["id"], "held", ts)
        records.audit(conn, actor, "letter_held", ts, person_id, row["case_id"],
                      {"letter": row["id"], "was": row["status"], "reason": reason})


def release(conn: sqlite3.Connection, person_id: int, actor: str, ts: float) -> None:
    """A new consent: held letters go back to the review queue (approved again before use)."""
    person = conn.execute("SELECT status FROM people WHERE id = ?", (person_id,)).fetchone()
    if person is None or person["status"] == "withdrawn":
        return
    rows = conn.execute("SELECT id, case_id FROM letters WHERE person_id = ? AND status = 'held'"
                        " ORDER BY id", (person_id,)).fetchall()
    for row in rows:
        letters.set_status(conn, row["id"], "pending_review", ts, approved_version=None,
                           approved_by=None, approved_at=None, announced_at=None)
        records.audit(conn, actor, "letter_unheld", ts, person_id, row["case_id"],
                      {"letter": row["id"]})
