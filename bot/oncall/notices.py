"""The notices table: a staff notice is a row here first, sent only after commit.

The same life as an outbox row (bot.store.outbox): pending -> sending (committed before the
provider is called) -> sent, or back to pending with a later `next_attempt_at`, or failed.
A row left `sending` by a crash is settled at start-up (bot.oncall.notifier).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.privacy import sealed as bound


@dataclass(frozen=True)
class Notice:
    id: int
    alert_id: int | None
    channel: str  # "sms" or "email"
    recipient: str  # which setting entry or account, never the address
    address: str
    subject: str
    body: str
    attempts: int
    first_attempt_at: float | None


def enqueue(conn: sqlite3.Connection, *, alert_id: int, channel: str, recipient: str,
            sealed: bytes | None, subject: str, body: str, now: float) -> int:
    """Queue one notice to a sealed address (`seal`); None: the facilitator account named by
    `recipient`, whose email is read when it is sent."""
    row_id = conn.execute(
        "INSERT INTO notices (alert_id, channel, recipient, address_enc, subject, body, status,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        (alert_id, channel, recipient, sealed, subject, body, now, now),
    ).lastrowid
    assert row_id is not None
    return row_id


def seal(cipher: Cipher, address: str, channel: str, recipient: str) -> bytes:
    """Bound to the setting entry it was read from (table, column, channel and entry)."""
    return bound.seal(cipher, address, "notices", "address_enc", channel=channel,
                      recipient=recipient)


def claim_due(conn: sqlite3.Connection, cipher: Cipher, now: float, limit: int,
              channels: tuple[str, ...]) -> list[Notice]:
    """Mark due notices as being sent (committed before any provider call) and return them."""
    rows = conn.execute(
        "SELECT * FROM notices WHERE status = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?", (now, limit)).fetchall()
    rows = [r for r in rows if r["channel"] in channels]
    conn.executemany(
        "UPDATE notices SET status = 'sending', claimed_at = ?, attempts = attempts + 1,"
        " first_attempt_at = coalesce(first_attempt_at, ?) WHERE id = ?",
        [(now, now, r["id"]) for r in rows])
    return [_notice(conn, cipher, r, r["attempts"] + 1, r["first_attempt_at"])
            for r in rows]


def in_doubt(conn: sqlite3.Connection, cipher: Cipher) -> list[Notice]:
    """Notices claimed but never marked: the process died during a send."""
    rows = conn.execute("SELECT * FROM notices WHERE status = 'sending' ORDER BY id").fetchall()
    return [_notice(conn, cipher, r, r["attempts"], r["first_attempt_at"]) for r in rows]


def _notice(conn: sqlite3.Connection, cipher: Cipher, r: sqlite3.Row, attempts: int,
            first: float | None) -> Notice:
    if r["address_enc"] is not None:
        address = bound.open_in(cipher, r["address_enc"], "notices", "address_enc", r)
    else:  # "facilitator:ID": their account's address now (it may have changed since)
        found = conn.execute("SELECT email FROM facilitators WHERE id = ? AND active = 1",
                             (_account(r["recipient"]),)).fetchone()
        address = found["email"] if found else ""
    return Notice(r["id"], r["alert_id"], r["channel"], r["recipient"], address, r["subject"],
                  r["body"], attempts, first)


def _account(recipient: str) -> int:
    kind, _, number = recipient.partition(":")
    return int(number) if kind == "facilitator" and number.isdecimal() else 0


def mark_sent(conn: sqlite3.Connection, notice_id: int, provider_id: str, now: float) -> None:
    conn.execute("UPDATE notices SET status = 'sent', sent_at = ?, provider_id = ?, error = NULL"
                 " WHERE id = ? AND status = 'sending'", (now, provider_id, notice_id))


def mark_retry(conn: sqlite3.Connection, notice_id: int, at: float, error: str) -> None:
    conn.execute("UPDATE notices SET status = 'pending', next_attempt_at = ?, error = ?"
                 " WHERE id = ? AND status = 'sending'", (at, error, notice_id))


def mark_failed(conn: sqlite3.Connection, notice_id: int, error: str) -> None:
    conn.execute("UPDATE notices SET status = 'failed', error = ? WHERE id = ?"
                 " AND status = 'sending'", (error, notice_id))


def next_due(conn: sqlite3.Connection) -> float | None:
    row = conn.execute("SELECT min(next_attempt_at) AS due FROM notices"
                       " WHERE status = 'pending'").fetchone()
    return row["due"] if row and row["due"] is not None else None
