"""Messages the provider holds a copy of: their ids and latest delivery status.

Status callbacks arrive out of order (a `sent` after a `delivered`, sometimes before we have
recorded the id at all), so a status only ever moves forward by rank. Once a status is final
the retention job may ask the channel to `forget` the provider's copy (`final_unforgotten`,
then `mark_forgotten`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bot.store import outbox

# Twilio's message statuses in the order they happen; equal ranks are alternatives
RANKS = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "partially_delivered": 4,
    "read": 5, "receiving": 0, "received": 4,
}
FINAL = frozenset({"delivered", "undelivered", "failed", "canceled", "partially_delivered",
                   "read", "received"})
OPTED_OUT = "21610"  # the number replied STOP: never message it again
# the number cannot take an SMS (unknown, unreachable, landline or not a mobile)
UNDELIVERABLE = frozenset({"21211", "21612", "21614", "30003", "30005", "30006"})


@dataclass(frozen=True)
class StatusChange:
    """What a status callback changed, for the caller's log and alerts."""

    known: bool  # the status is one we understand
    advanced: bool  # it moved the stored status forward
    outbox_id: int | None
    alert: dict[str, object] | None = None


def record_sent(conn: sqlite3.Connection, channel: str, outbox_id: int,
                provider_ids: list[str], status: str, now: float,
                set_status: bool = True) -> list[dict[str, object]]:
    """The provider accepted these messages for an outbox row (a callback may be first).

    A failure a callback reported before this row was known is acted on now (opt-out,
    alert), once: returns the alerts raised. `set_status=False`: the caller sets the row's
    provider status itself (`outbox.mark_sent(roll_up=True)`, else `roll_up`).
    """
    rank = RANKS.get(status, 0)
    # only "?" placeholders are formatted into this query
    early = conn.execute(
        "SELECT status, error_code FROM provider_messages WHERE outbox_id IS NULL"  # noqa: S608  # nosec B608
        f" AND status IN ('failed', 'undelivered') AND provider_id IN"
        f" ({','.join('?' * len(provider_ids))}) ORDER BY provider_id",
        provider_ids,
    ).fetchall() if provider_ids else []
    conn.executemany(
        "INSERT INTO provider_messages (provider_id, channel, outbox_id, status, status_rank,"
        " final, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider_id) DO UPDATE"
        " SET outbox_id = excluded.outbox_id",
        [(pid, channel, outbox_id, status, rank, int(status in FINAL), now)
         for pid in provider_ids],
    )
    if set_status:
        roll_up(conn, outbox_id)
    alerts = [_consequences(conn, outbox_id, r["status"], r["error_code"] or "", now)
              for r in early]
    return [a for a in alerts if a is not None]


def record_status(conn: sqlite3.Connection, channel: str, provider_id: str, status: str,
                  error_code: str, now: float) -> StatusChange:
    """Move a message's status forward (never back); act on opt-out and dead numbers."""
    if status not in RANKS:
        return StatusChange(False, False, None)
    rank = RANKS[status]
    cur = conn.execute(
        "INSERT INTO provider_messages (provider_id, channel, status, status_rank, final,"
        " error_code, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider_id) DO"
        " UPDATE SET status = excluded.status, status_rank = excluded.status_rank,"
        " final = excluded.final,"
        " error_code = coalesce(excluded.error_code, provider_messages.error_code),"
        " updated_at = excluded.updated_at"
        " WHERE excluded.status_rank > provider_messages.status_rank",
        (provider_id, channel, status, rank, int(status in FINAL), error_code or None, now),
    )
    row = conn.execute("SELECT outbox_id FROM provider_messages WHERE provider_id = ?",
                       (provider_id,)).fetchone()
    outbox_id = row["outbox_id"] if row else None
    if cur.rowcount == 0:
        return StatusChange(True, False, outbox_id)
    if outbox_id is not None:
        roll_up(conn, outbox_id)
    alert = _consequences(conn, outbox_id, status, error_code, now)
    return StatusChange(True, True, outbox_id, alert)


def roll_up(conn: sqlite3.Connection, outbox_id: int) -> None:
    """An outbox row's status is that of its least advanced part."""
    conn.execute(
        "UPDATE outbox SET provider_status = (SELECT status FROM provider_messages"
        " WHERE outbox_id = ? ORDER BY status_rank LIMIT 1) WHERE id = ?",
        (outbox_id, outbox_id),
    )


def _consequences(conn: sqlite3.Connection, outbox_id: int | None, status: str,
                  error_code: str, now: float) -> dict[str, object] | None:
    if outbox_id is None or status not in ("failed", "undelivered"):
        return None
    row = conn.execute("SELECT person_id FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        return None
    person_id = row["person_id"]
    if error_code == OPTED_OUT:
        conn.execute("UPDATE people SET opted_out = 1 WHERE id = ?", (person_id,))
        outbox.cancel_all(conn, person_id)
        return None
    kind = "undeliverable" if error_code in UNDELIVERABLE else "send_failed"
    alert_id = conn.execute(
        "INSERT INTO alerts (kind, person_id, data, created_at) VALUES (?, ?, ?, ?)",
        (kind, person_id, json.dumps({"outbox": outbox_id, "error": error_code}), now),
    ).lastrowid
    return {"id": alert_id, "kind": kind, "person": person_id, "outbox": outbox_id}


def linked_ids(conn: sqlite3.Connection, channel: str, limit: int) -> list[str]:
    """The most recent provider ids already linked to an outbox row, oldest first."""
    rows = conn.execute(
        "SELECT provider_id FROM provider_messages WHERE channel = ? AND outbox_id IS NOT NULL"
        " ORDER BY rowid DESC LIMIT ?",
        (channel, limit),
    ).fetchall()
    return [r["provider_id"] for r in reversed(rows)]


def final_unforgotten(conn: sqlite3.Connection, channel: str, limit: int = 100) -> list[str]:
    """Provider ids whose status is final and whose provider copy is not yet deleted."""
    rows = conn.execute(
        "SELECT provider_id FROM provider_messages WHERE final = 1 AND forgotten_at IS NULL"
        " AND channel = ? ORDER BY updated_at LIMIT ?",
        (channel, limit),
    ).fetchall()
    return [r["provider_id"] for r in rows]


def mark_forgotten(conn: sqlite3.Connection, provider_id: str, now: float) -> None:
    conn.execute("UPDATE provider_messages SET forgotten_at = ? WHERE provider_id = ?",
                 (now, provider_id))
