"""Provider copies: once a message's delivery status is final, ask the provider to delete it.

Twilio keeps every message body in its logs until deleted; that copy is personal data we
control. After each retention sweep, every part the provider accepted whose delivery status
is final (`provider_messages.final`, moved forward only by the SMS channel's status
callbacks) and whose copy is not yet deleted (`provider_messages.forgotten_at IS NULL`) is
passed to its channel's `async forget(provider_id) -> bool`, if the channel has one
(channels that keep no deletable copy, like the console, simply lack it). True means the
copy is gone (or was never there): the row is marked and the audit log records it. False
or an error leaves the row for the next run. Messages the person sent are provider copies
too (a received message's status is final on arrival): every `inbound` row whose key is
"<channel>:<provider id>" for such a channel goes the same way, marked in
`inbound.provider_forgotten_at` (the row itself stays: it de-duplicates re-deliveries).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.clock import to_ts
from bot.store import provider, records
from bot.store.db import Database

log = logging.getLogger(__name__)
BATCH = 500
Forget = Callable[[str], Awaitable[bool]]


def forgetters(channels: Mapping[str, object]) -> dict[str, Forget]:
    """The channels that can delete their provider's copy, by name."""
    found = {name: getattr(ch, "forget", None) for name, ch in channels.items()}
    return {name: fn for name, fn in found.items() if callable(fn)}


def due(conn: sqlite3.Connection, channels: tuple[str, ...], limit: int = BATCH
        ) -> list[tuple[str, str, str]]:
    """(provider id, channel, provider id) of final messages whose copy is still held."""
    rows = conn.execute(
        "SELECT provider_id, channel FROM provider_messages"  # noqa: S608  # nosec B608
        " WHERE final = 1 AND forgotten_at IS NULL"
        f" AND channel IN ({','.join('?' * len(channels))}) ORDER BY updated_at, rowid LIMIT ?",
        (*channels, limit),
    ).fetchall()
    return [(r["provider_id"], r["channel"], r["provider_id"]) for r in rows]


def received(conn: sqlite3.Connection, channels: tuple[str, ...], limit: int = BATCH
             ) -> list[tuple[str, str, str]]:
    """(inbound key, channel, provider id) of received messages whose copy is still held."""
    found = []
    for channel in channels:
        rows = conn.execute(
            "SELECT key FROM inbound WHERE key LIKE ? AND provider_forgotten_at IS NULL"
            " ORDER BY received_at LIMIT ?", (f"{channel}:%", limit)).fetchall()
        found += [(r["key"], channel, r["key"].split(":", 1)[1].split(".")[0]) for r in rows]
    return found


def mark_received(conn: sqlite3.Connection, keys: list[str], now: float) -> None:
    for key in keys:
        conn.execute("UPDATE inbound SET provider_forgotten_at = ? WHERE key = ?", (now, key))
        row = conn.execute("SELECT person_id FROM inbound WHERE key = ?", (key,)).fetchone()
        records.audit(conn, "retention", "provider_copy_deleted", now, row["person_id"],
                      detail={"channel": key.split(":", 1)[0], "received": True})


def mark(conn: sqlite3.Connection, provider_ids: list[str], now: float) -> None:
    for pid in provider_ids:
        provider.mark_forgotten(conn, pid, now)
        row = conn.execute(
            "SELECT p.channel, p.outbox_id, o.person_id FROM provider_messages p"
            " LEFT JOIN outbox o ON o.id = p.outbox_id WHERE p.provider_id = ?", (pid,)
        ).fetchone()
        records.audit(conn, "retention", "provider_copy_deleted", now, row["person_id"],
                      detail={"outbox": row["outbox_id"], "channel": row["channel"]})


async def forget_final(db: Database, channels: Mapping[str, object], now: datetime) -> int:
    """Delete the provider copies of final and received messages; returns how many went."""
    able = forgetters(channels)
    if not able:
        return 0
    names = tuple(sorted(able))
    gone = await _drain(db, able, lambda c: due(c, names), mark, now)
    gone += await _drain(db, able, lambda c: received(c, names), mark_received, now)
    if gone:
        log.info("deleted %d provider copies", gone)
    return gone


async def _drain(db: Database, able: dict[str, Forget],
                 fetch: Callable[[sqlite3.Connection], Sequence[tuple[Any, str, str]]],
                 record: Callable[[sqlite3.Connection, list[Any], float], None],
                 now: datetime) -> int:
    """Ask the provider to forget each fetched copy; record those it did, in batches."""
    gone = 0
    while rows := await db.read(fetch):
        done: list[Any] = []
        for row_key, channel, provider_id in rows:
            try:
                if await able[channel](provider_id):
                    done.append(row_key)
            except Exception as exc:  # the provider is down: try again tomorrow
                log.warning("could not delete a provider copy (%s)", type(exc).__name__)
        if done:
            def unit(c: sqlite3.Connection, d: list[Any] = done) -> None:
                record(c, d, to_ts(now))

            await db.write(unit)
        gone += len(done)
        if len(done) < len(rows):  # some refused: stop rather than loop over them again
            break
    return gone
