"""The outbox: every message to a person is a row here first, sent only after commit."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import locks

log = logging.getLogger(__name__)

REPLY = 0  # an answer to the person's own message: always before scheduled ones
SCHEDULED = 1
TEMPLATE = "template"  # error of a row claimed to go as the WhatsApp template
AWAITING = "awaiting reply"  # error of a held row: the template went, the text waits
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False)  # made once, not per json.dumps call


@dataclass(frozen=True)
class OutboxRow:
    id: int
    person_id: int
    address_id: int
    channel: str
    address: str
    text: str
    choices: tuple[tuple[str, str], ...]
    locale: str
    priority: int
    attempts: int
    first_attempt_at: float | None = None
    template: bool = False  # goes as the approved template (a window channel, window closed)


def enqueue(
    conn: sqlite3.Connection, cipher: Cipher, *, person_id: int, address_id: int, channel: str,
    text: str, choices: tuple[tuple[str, str], ...], locale: str, priority: int,
    not_before: float, now: float, held: bool = False,
) -> int:
    payload = _PAYLOAD_JSON.encode({"text": text, "choices": choices, "locale": locale})
    row_id = sealed.next_id(conn, "outbox")
    conn.execute(
        "INSERT INTO outbox (id, person_id, address_id, channel, payload_enc, priority, status,"
        " not_before, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row_id, person_id, address_id, channel,
            sealed.seal(cipher, payload, "outbox", "payload_enc", id=row_id,
                        person_id=person_id, address_id=address_id),
            priority, "held" if held else "pending", not_before, not_before, now,
        ),
    )
    return row_id


@dataclass(frozen=True)
class _Claim:
    id: int
    error: str | None


def claim_due(
    conn: sqlite3.Connection, cipher: Cipher, now: float, limit: int, channels: tuple[str, ...],
    priority: int | None = None,
) -> list[OutboxRow]:
    """Mark due rows as being sent (committed before any provider call) and return them.

    Each row is first checked against the person's state now (`send_gate`): a row they no
    longer want, or outside their safe times, is cancelled, held or moved instead.
    """
    if limit <= 0:
        return []
    only = () if priority is None else (priority,)
    # only "?" placeholders are formatted into these queries
    rows = conn.execute(
        "SELECT o.*, a.address_enc, a.last_seen_at AS address_seen_at,"  # noqa: S608  # nosec B608
        " a.person_id AS a_person, a.channel AS a_channel,"
        " p.opted_out AS person_opted_out, p.status AS person_status"
        " FROM outbox o JOIN addresses a ON a.id = o.address_id"
        " JOIN people p ON p.id = o.person_id"
        " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
        f" AND o.channel IN ({','.join('?' * len(channels))})"
        + (" AND o.priority = ?" if only else "") +
        # keep a person's messages in order: an earlier one being retried goes first (but an
        # answer does not wait for a scheduled row put off until the person's safe time)
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.person_id = o.person_id"
        "  AND e.id < o.id AND (e.status = 'sending' OR (e.status = 'pending' AND e.attempts > 0"
        "  AND NOT (o.priority = ? AND e.priority != ? AND e.not_before > ?))))"
        " ORDER BY o.priority, o.next_attempt_at, o.id LIMIT ?" + locks.skip_locked(conn, "o"),
        (now, *channels, *only, REPLY, REPLY, now, limit),
    ).fetchall()
    from bot.store.send_gate import Gate  # it reads REPLY from here

    gate = Gate(conn, cipher, now)
    claimed: list[tuple[_Claim, OutboxRow]] = []
    for r in rows:
        try:
            if gate.passes(r):
                claimed.append((_Claim(r["id"], r["error"]), _row(
                    cipher, r, attempts=r["attempts"] + 1, template=r["id"] in gate.templates)))
        except sealed.Tampered as exc:
            quarantine(conn, r["id"], r["person_id"], exc, now)
    conn.executemany(
        "UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1,"
        " first_attempt_at = coalesce(first_attempt_at, ?), error = ? WHERE id = ?",
        [(now, now, TEMPLATE if r.id in gate.templates else r.error, r.id)
         for r, _ in claimed],
    )
    return [row for _, row in claimed]


def quarantine(conn: sqlite3.Connection, row_id: int, person_id: int, exc: sealed.Tampered,
               now: float) -> None:
    """A row whose sealed values do not belong where they are: never sent, loudly flagged."""
    log.error("outbox %d not sent: a sealed value in %s.%s does not belong to its row (the"
              " database was changed without the key)", row_id, exc.table, exc.column)
    conn.execute("UPDATE outbox SET status = 'failed', error = 'tampered' WHERE id = ?",
                 (row_id,))
    conn.execute(
        "INSERT INTO alerts (kind, person_id, data, created_at) VALUES ('tampered', ?, ?, ?)",
        (person_id, json.dumps({"outbox": row_id, "column": f"{exc.table}.{exc.column}"}),
         now))


def in_doubt(conn: sqlite3.Connection, cipher: Cipher,
             lease: tuple[float, float] | None = None, busy: frozenset[int] = frozenset(),
             ) -> list[OutboxRow]:
    """Rows claimed but never marked: the process died during a send.

    `lease=(claimed_before, now)`: only rows claimed before then and not `busy` (in flight
    here), claimed again at `now`, so no other instance takes the same row over.
    """
    rows = conn.execute(
        "SELECT o.*, a.address_enc, a.person_id AS a_person, a.channel AS a_channel"
        " FROM outbox o JOIN addresses a ON a.id = o.address_id"
        " WHERE o.status = 'sending' AND coalesce(o.claimed_at, 0) < ? ORDER BY o.id",
        (lease[0] if lease else math.inf,),
    ).fetchall()
    if lease:
        rows = [r for r in rows if r["id"] not in busy]
        conn.executemany("UPDATE outbox SET claimed_at = ? WHERE id = ?",
                         [(lease[1], r["id"]) for r in rows])
    found = []
    for r in rows:
        try:
            found.append(_row(cipher, r, attempts=r["attempts"], template=r["error"] == TEMPLATE))
        except sealed.Tampered as exc:
            quarantine(conn, r["id"], r["person_id"], exc, r["claimed_at"] or 0.0)
    return found


def _row(cipher: Cipher, r: sqlite3.Row, attempts: int, template: bool = False) -> OutboxRow:
    payload = json.loads(sealed.open_in(cipher, r["payload_enc"], "outbox", "payload_enc", r))
    address = sealed.open_in(cipher, r["address_enc"], "addresses", "address_enc",
                             {"id": r["address_id"], "person_id": r["a_person"],
                              "channel": r["a_channel"]})
    if r["a_person"] != r["person_id"]:
        raise sealed.Tampered("outbox", "address_id")
    return OutboxRow(
        id=r["id"],
        person_id=r["person_id"],
        address_id=r["address_id"],
        channel=r["channel"],
        address=address,
        text=payload["text"],
        choices=tuple((p, label) for p, label in payload["choices"]),
        locale=payload["locale"],
        priority=r["priority"],
        attempts=attempts,
        first_attempt_at=r["first_attempt_at"],
        template=template,
    )


_SENT = ("UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, error = NULL"
         " WHERE id = ? AND status = 'sending'")
_SENT_ROLLED_UP = (
    "UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, error = NULL,"
    " provider_status = (SELECT status FROM provider_messages WHERE outbox_id = ?"
    " ORDER BY status_rank LIMIT 1) WHERE id = ? AND status = 'sending'")


def mark_sent(conn: sqlite3.Connection, row_id: int, provider_id: str, now: float,
              roll_up: bool = False) -> bool:
    """Whether the row was being sent (and now is sent); `roll_up`: its provider status is
    set in the same statement, from its provider_messages (bot.store.provider)."""
    if roll_up:
        cur = conn.execute(_SENT_ROLLED_UP, (now, provider_id, row_id, row_id))
    else:
        cur = conn.execute(_SENT, (now, provider_id, row_id))
    return bool(cur.rowcount == 1)


def mark_awaiting(conn: sqlite3.Connection, row_id: int, provider_id: str, now: float) -> None:
    """The template went in this row's place: the row waits, held, for the person's reply;
    if they wrote from that address while it went, it may go at once."""
    conn.execute(
        "UPDATE outbox SET provider_id = ?, next_attempt_at = ?,"
        " status = CASE WHEN a.last_seen_at > outbox.claimed_at THEN 'pending' ELSE 'held' END,"
        " error = CASE WHEN a.last_seen_at > outbox.claimed_at THEN NULL ELSE ? END"
        " FROM addresses a WHERE a.id = outbox.address_id AND outbox.id = ?"
        " AND outbox.status = 'sending'",
        (provider_id, now, AWAITING, row_id),
    )


def awaiting(conn: sqlite3.Connection, person_id: int, address_id: int) -> bool:
    """Whether a template to this address is still unanswered (one is enough)."""
    return conn.execute(
        "SELECT 1 FROM outbox WHERE person_id = ? AND address_id = ? AND status = 'held'"
        " AND error = ? LIMIT 1", (person_id, address_id, AWAITING)).fetchone() is not None


def release_awaiting(conn: sqlite3.Connection, person_id: int, address_id: int,
                     now: float) -> int:
    """The person wrote from this address: what waited for their reply may go now."""
    return conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, error = NULL"
        " WHERE person_id = ? AND address_id = ? AND status = 'held' AND error = ?",
        (now, person_id, address_id, AWAITING)).rowcount


def mark_retry(conn: sqlite3.Connection, row_id: int, at: float, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, error = ?"
        " WHERE id = ? AND status = 'sending'",
        (at, error, row_id),
    )


def mark_failed(conn: sqlite3.Connection, row_id: int, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'failed', error = ? WHERE id = ? AND status = 'sending'",
        (error, row_id),
    )


def cancel_scheduled(conn: sqlite3.Connection, person_id: int) -> None:
    """Nothing scheduled goes out after a withdraw or opt-out."""
    conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE person_id = ? AND priority = ?"
        " AND status IN ('pending', 'held')",
        (person_id, SCHEDULED),
    )


def cancel_all(conn: sqlite3.Connection, person_id: int) -> None:
    """The person opted out: nothing waiting goes to them, answers included, on any channel.

    A row being sent now is stopped on its retry by the claim-time check (`send_gate`).
    """
    conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE person_id = ?"
        " AND status IN ('pending', 'held')",
        (person_id,),
    )


def hold_scheduled(conn: sqlite3.Connection, person_id: int) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'held' WHERE person_id = ? AND priority = ?"
        " AND status = 'pending'",
        (person_id, SCHEDULED),
    )


def release_held(conn: sqlite3.Connection, person_id: int, at: float) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'pending', not_before = max(not_before, ?),"
        " next_attempt_at = max(next_attempt_at, ?) WHERE person_id = ? AND status = 'held'"
        " AND coalesce(error, '') != ?",  # a row awaiting a reply to its template waits on
        (at, at, person_id, AWAITING),
    )


def next_due(conn: sqlite3.Connection, channels: tuple[str, ...]) -> float | None:
    row = conn.execute(
        "SELECT min(next_attempt_at) AS due FROM outbox WHERE status = 'pending'"  # noqa: S608  # nosec B608
        f" AND channel IN ({','.join('?' * len(channels))})",
        channels,
    ).fetchone()
    return row["due"] if row and row["due"] is not None else None
