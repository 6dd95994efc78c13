"""The last check before a claimed outbox row goes: the person's state NOW, not when queued.

A row may wait in the outbox (a retry, a restart, a backlog) while the person opts out,
withdraws, pauses, says it is not safe to message them, or their safe hours end. Each due row
is decided here in the claiming transaction, so a row that was in flight when the person
changed their mind is stopped on its retry too.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Literal

from bot.clock import from_ts, to_ts
from bot.crypto import Cipher
from bot.scheduler.windows import deliver_at, in_window
from bot.store import records
from bot.store.outbox import AWAITING, REPLY, awaiting
from bot.types import State

log = logging.getLogger(__name__)

Verdict = Literal["send", "cancel", "hold", "later", "await", "template"]
# channels that take free-form messages only within a time of the person's last message
WINDOWS = {"whatsapp": 24 * 3600.0}


class Gate:
    """Decides the rows of one claim; loads each person's state at most once."""

    def __init__(self, conn: sqlite3.Connection, cipher: Cipher, now: float) -> None:
        self.conn, self.cipher, self.now = conn, cipher, now
        self._states: dict[int, State] = {}
        self.templates: set[int] = set()  # rows to send as the approved template instead
        self._templated: set[tuple[int, int]] = set()  # (person, address) given one here

    def passes(self, row: sqlite3.Row) -> bool:
        """True if the row may go now; otherwise it is cancelled, held or moved (audited)."""
        verdict, reason, at = self._decide(row)
        if verdict == "send":
            verdict, reason = self._window(row), "awaiting_reply"
        if verdict == "send":
            return True
        if verdict == "template":  # it goes, as the template: a message like any other
            self.templates.add(row["id"])
            records.audit(self.conn, "sender", "outbox_template", self.now, row["person_id"],
                          None, {"outbox": row["id"], "reason": "outside_window"})
            return True
        if verdict == "await":
            self.conn.execute("UPDATE outbox SET status = 'held', error = ? WHERE id = ?",
                              (AWAITING, row["id"]))
        elif verdict == "later":
            self.conn.execute(
                "UPDATE outbox SET next_attempt_at = ?, not_before = max(not_before, ?)"
                " WHERE id = ?", (at, at, row["id"]))
        else:
            self.conn.execute("UPDATE outbox SET status = ? WHERE id = ?",
                              ("cancelled" if verdict == "cancel" else "held", row["id"]))
        action = {"cancel": "outbox_cancelled", "hold": "outbox_held",
                  "later": "outbox_deferred", "await": "outbox_awaiting_reply"}[verdict]
        records.audit(self.conn, "sender", action, self.now, row["person_id"], None,
                      {"outbox": row["id"], "reason": reason})
        log.info("outbox %d of person %d %s at send time: %s", row["id"], row["person_id"],
                 verdict, reason)
        return False

    def _decide(self, row: sqlite3.Row) -> tuple[Verdict, str, float]:
        if row["person_opted_out"]:
            return "cancel", "opted_out", 0.0
        if row["priority"] == REPLY:  # an answer to the person: goes unless they opted out
            return "send", "", 0.0
        if row["person_status"] == "withdrawn":
            return "cancel", "withdrawn", 0.0
        if row["person_status"] == "paused":
            return "hold", "paused", 0.0
        state = self._state(row["person_id"])
        if state.answers.get("safe") == "no":
            return "cancel", "not_safe", 0.0
        now = from_ts(self.now)
        if not in_window(state, now):
            return "later", "outside_safe_times", to_ts(deliver_at(state, now))
        return "send", "", 0.0

    def _window(self, row: sqlite3.Row) -> Verdict:
        """Outside the channel's window since the person last wrote from this address: the
        template goes, unless one already waits for their reply (then this row waits too)."""
        window = WINDOWS.get(row["channel"])
        seen = row["address_seen_at"]
        if window is None or (seen is not None and self.now - seen < window):
            return "send"
        to = (row["person_id"], row["address_id"])
        if to in self._templated or awaiting(self.conn, *to):
            return "await"
        self._templated.add(to)
        return "template"

    def _state(self, person_id: int) -> State:
        if person_id not in self._states:
            self._states[person_id] = records.load_state(self.conn, self.cipher, person_id)[0]
        return self._states[person_id]
