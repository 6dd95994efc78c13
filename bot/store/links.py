"""One-time, expiring deep-link codes: continue a person's case on another channel.

A facilitator makes a code for a person (who came by SMS, say); the person opens
`https://t.me/<bot>?start=<code>` and that chat joins the same person and case. People are
never linked by phone number. Only a keyed hash of a code is stored, so a copy of the
database does not hold usable links.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import timedelta

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import records

LINK_TTL = timedelta(days=7)
CODE_BYTES = 16  # 22 URL-safe characters; Telegram allows up to 64 in a start parameter


def _hash(cipher: Cipher, code: str) -> bytes:
    return cipher.address_hash("link-code", code)


def create(
    conn: sqlite3.Connection, cipher: Cipher, person_id: int, now: float, *,
    channel: str = "telegram", ttl: timedelta = LINK_TTL, actor: str = "",
) -> str:
    """A new code for `person_id`; earlier unused codes for that person stop working."""
    if conn.execute("SELECT 1 FROM people WHERE id = ?", (person_id,)).fetchone() is None:
        raise LookupError(f"no person {person_id}")
    conn.execute(
        "UPDATE link_codes SET expires_at = min(expires_at, ?) WHERE person_id = ?"
        " AND used_at IS NULL",
        (now, person_id),
    )
    code = secrets.token_urlsafe(CODE_BYTES)
    conn.execute(
        "INSERT INTO link_codes (code_hash, person_id, channel, created_by, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        (_hash(cipher, code), person_id, channel, actor, now, now + ttl.total_seconds()),
    )
    records.audit(conn, actor or "facilitator", "link_code_created", now, person_id,
                  detail={"channel": channel})
    return code


def redeem(
    conn: sqlite3.Connection, cipher: Cipher, code: str, channel: str, address: str, now: float
) -> tuple[int, int] | None:
    """Use a code once: (person id, address id) with the address now that person's, else None."""
    row = conn.execute(
        "SELECT id, person_id, expires_at, used_at FROM link_codes"
        " WHERE code_hash = ? AND channel = ?",
        (_hash(cipher, code), channel),
    ).fetchone()
    if row is None:
        return None
    status = conn.execute("SELECT status FROM people WHERE id = ?",
                          (row["person_id"],)).fetchone()
    usable = status is not None and status[0] in ("active", "paused")
    if row["used_at"] is not None or row["expires_at"] <= now or not usable:
        records.audit(conn, "person", "link_code_refused", now, row["person_id"],
                      detail={"used": row["used_at"] is not None, "person_usable": usable})
        return None
    conn.execute("UPDATE link_codes SET used_at = ? WHERE id = ?", (now, row["id"]))
    person_id: int = row["person_id"]
    found = records.find_address(conn, cipher, channel, address)
    if found is None:
        return person_id, _add_address(conn, cipher, person_id, channel, address, now)
    previous, address_id = found
    conn.execute(  # re-sealed: the address is bound to the person it belongs to
        "UPDATE addresses SET person_id = ?, address_enc = ?, last_seen_at = ? WHERE id = ?",
        (person_id, sealed.seal(cipher, address, "addresses", "address_enc", id=address_id,
                                person_id=person_id, channel=channel), now, address_id),
    )
    if previous != person_id:
        records.audit(conn, "person", "address_moved", now, person_id,
                      detail={"from_person": previous, "channel": channel})
    return person_id, address_id


def _add_address(
    conn: sqlite3.Connection, cipher: Cipher, person_id: int, channel: str, address: str,
    now: float,
) -> int:
    return records.add_address(conn, cipher, person_id, channel, address, now)
