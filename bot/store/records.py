"""People, their addresses, conversation state, inbound de-duplication and the message log.

Plain functions of a sqlite3 connection, run inside a Database unit (one transaction).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from typing import Any

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import audit as audit_log
from bot.store import locks, name_index
from bot.types import State

STATE_FIELDS = {f.name for f in fields(State)}
# made once: json.dumps with any option builds a new encoder on every call
_STATE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def state_to_json(state: State) -> str:
    """The state's fields as JSON (json.dumps walks the answers itself: dataclasses.asdict
    deep-copied them first, a few percent of each message's CPU)."""
    data: dict[str, Any] = {name: getattr(state, name) for name in STATE_FIELDS}
    data["answers"] = dict(state.answers)
    return _STATE_JSON.encode(data)


def state_from_json(text: str) -> State:
    data: dict[str, Any] = json.loads(text)
    return State(**{k: v for k, v in data.items() if k in STATE_FIELDS})


def claim_inbound(conn: sqlite3.Connection, key: str, now: float,
                  person_id: int | None = None) -> bool:
    """True the first time a provider message id is seen; False for a re-delivery."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO inbound (key, received_at, person_id) VALUES (?, ?, ?)",
        (key, now, person_id),
    )
    return cur.rowcount == 1


def claim_from(conn: sqlite3.Connection, cipher: Cipher, key: str, channel: str, address: str,
               now: float) -> tuple[int, int] | None:
    """Claim an inbound message and find or make its sender: (person id, address id), or None
    for a re-delivery (then nothing else is changed). A known sender's person is stored with
    the claim (one statement, not an INSERT and an UPDATE)."""
    locks.hold(conn, locks.ADDRESS, cipher.address_hash(channel, address))  # made once
    tampered: sealed.Tampered | None = None
    try:
        found = find_address(conn, cipher, channel, address)
    except sealed.Tampered as exc:  # raised once claimed (a re-delivery stays a no-op)
        found, tampered = None, exc
    if not claim_inbound(conn, key, now, found[0] if found else None):
        return None
    if tampered is not None:
        raise tampered
    if found is not None:
        conn.execute("UPDATE addresses SET last_seen_at = ? WHERE id = ?", (now, found[1]))
        return found
    person_id, address_id = _new_person(conn, cipher, channel, address, now)
    link_inbound(conn, key, person_id)
    return person_id, address_id


def link_inbound(conn: sqlite3.Connection, key: str, person_id: int) -> None:
    conn.execute("UPDATE inbound SET person_id = ? WHERE key = ?", (person_id, key))


def find_address(
    conn: sqlite3.Connection, cipher: Cipher, channel: str, address: str
) -> tuple[int, int] | None:
    hashes = cipher.address_hashes(channel, address)
    row = conn.execute(
        "SELECT id, person_id, channel, address_enc FROM addresses WHERE channel = ?"  # noqa: S608  # nosec B608
        f" AND address_hash IN ({','.join('?' * len(hashes))}) ORDER BY id LIMIT 1",
        (channel, *hashes),
    ).fetchone()
    if row is None:
        return None
    # the hash is not bound to its row: a hash copied onto someone else's row must not hand
    # their conversation to whoever texts from the copied number
    if row["address_enc"] and sealed.open_in(cipher, row["address_enc"], "addresses",
                                             "address_enc", row) != address:
        raise sealed.Tampered("addresses", "address_hash")
    return row["person_id"], row["id"]


def find_or_create_person(
    conn: sqlite3.Connection, cipher: Cipher, channel: str, address: str, now: float
) -> tuple[int, int, bool]:
    """(person id, address id, created) for an address; a new address is a new person."""
    locks.hold(conn, locks.ADDRESS, cipher.address_hash(channel, address))  # made once
    found = find_address(conn, cipher, channel, address)
    if found is not None:
        conn.execute("UPDATE addresses SET last_seen_at = ? WHERE id = ?", (now, found[1]))
        return found[0], found[1], False
    return *_new_person(conn, cipher, channel, address, now), True


def _new_person(conn: sqlite3.Connection, cipher: Cipher, channel: str, address: str,
                now: float) -> tuple[int, int]:
    person_id = conn.execute("INSERT INTO people (created_at) VALUES (?)", (now,)).lastrowid
    assert person_id is not None
    return person_id, add_address(conn, cipher, person_id, channel, address, now)


def add_address(conn: sqlite3.Connection, cipher: Cipher, person_id: int, channel: str,
                address: str, now: float) -> int:
    """A new address row for a person, its value sealed to the row."""
    address_id = sealed.next_id(conn, "addresses")
    conn.execute(
        "INSERT INTO addresses (id, person_id, channel, address_hash, address_enc, created_at,"
        " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (address_id, person_id, channel, cipher.address_hash(channel, address),
         sealed.seal(cipher, address, "addresses", "address_enc", id=address_id,
                     person_id=person_id, channel=channel), now, now),
    )
    return address_id


def latest_address(conn: sqlite3.Connection, person_id: int) -> int | None:
    """The address the person used last: where messages not answering a message go."""
    row = conn.execute(
        "SELECT id FROM addresses WHERE person_id = ? ORDER BY last_seen_at DESC, id DESC"
        " LIMIT 1",
        (person_id,),
    ).fetchone()
    return row["id"] if row else None


def address_of(conn: sqlite3.Connection, cipher: Cipher, address_id: int) -> tuple[str, str]:
    row = conn.execute(
        "SELECT id, person_id, channel, address_enc FROM addresses WHERE id = ?", (address_id,)
    ).fetchone()
    return row["channel"], sealed.open_in(cipher, row["address_enc"], "addresses",
                                          "address_enc", row)


def load_state(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> tuple[State, int]:
    """The person's conversation state and its version (0 for a new conversation)."""
    row = conn.execute(
        "SELECT person_id, state_enc, version FROM conversations WHERE person_id = ?",
        (person_id,)).fetchone()
    if row is None:
        return State(), 0
    plain = sealed.open_in(cipher, row["state_enc"], "conversations", "state_enc", row)
    return state_from_json(plain), row["version"]


def save_state(
    conn: sqlite3.Connection, cipher: Cipher, person_id: int, state: State, version: int,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO conversations (person_id, state_enc, version, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET"
        " state_enc = excluded.state_enc, version = excluded.version,"
        " updated_at = excluded.updated_at",
        (person_id, sealed.seal(cipher, state_to_json(state), "conversations", "state_enc",
                                person_id=person_id), version + 1, now),
    )
    conn.execute(
        "UPDATE people SET status = ?, locale = ? WHERE id = ?",
        (state.status, state.locale, person_id),
    )
    name_index.index_name(conn, cipher, person_id, state.answers.get("name"))


def log_message(
    conn: sqlite3.Connection, cipher: Cipher, person_id: int, direction: str, channel: str,
    body: str, now: float, outbox_id: int | None = None, author: str | None = None,
    sent_by: int | None = None,
) -> int:
    """`author` and `sent_by` (a facilitator's account) say who wrote a message to the person."""
    message_id = sealed.next_id(conn, "messages")
    conn.execute(
        "INSERT INTO messages (id, person_id, direction, channel, body_enc, created_at,"
        " outbox_id, author, sent_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id, person_id, direction, channel,
         sealed.seal(cipher, body, "messages", "body_enc", id=message_id, person_id=person_id),
         now, outbox_id, author, sent_by),
    )
    return message_id


def audit(
    conn: sqlite3.Connection, actor: str, action: str, now: float,
    person_id: int | None = None, case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log: who did what, when; never message content."""
    audit_log.append(conn, actor, action, now, person_id, case_id, detail)


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
