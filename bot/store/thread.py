"""The conversation on the case page: who wrote each message, the choices a question offered,
and which of them a reply chose (so a reply "2" can be read without counting).

The choices are those the person was sent: the outbox row of each message holds them, sealed
with its text. The console reads them here, for an assigned facilitator (bot.store.casefile).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.i18n import normalise
from bot.privacy import sealed

ERASED = "(erased)"

# who wrote a message, as the page says it (`author`: NULL on messages from before it was kept)
PERSON, BOT, FACILITATOR, TEAM, PASSED_ON = "person", "bot", "facilitator", "team", "passed_on"


@dataclass(frozen=True)
class Entry:
    """One line of the case timeline."""

    at: float
    kind: str  # message_in, message_out, job, meeting, note
    text: str
    status: str = ""
    detail: str = ""  # a meeting's mode; how a note's contact happened
    author: str = ""  # who wrote a note or a message: the facilitator's name (or the actor)
    note: dict[str, str] | None = None  # a note's fields: with, what, agreed
    source: str = ""  # a message's writer: PERSON, BOT, FACILITATOR, TEAM or PASSED_ON
    choices: tuple[str, ...] = ()  # a question's choices, as the person was offered them
    chose: str = ""  # a reply that names one of the previous question's choices: "2 — Text"


def text_of(cipher: Cipher, row: sealed.Row, table: str, column: str) -> str:
    """Decrypted text; an erased value (empty) shows as such instead of failing the page."""
    blob = row[column]
    return sealed.open_in(cipher, blob, table, column, row) if blob else ERASED


def messages(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> list[Entry]:
    """The person's messages both ways, oldest first, with delivery status, writer, choices."""
    entries: list[Entry] = []
    offered: tuple[str, ...] = ()  # the choices of the last message sent to the person
    for r in conn.execute(
        "SELECT m.id, m.person_id, m.direction, m.body_enc, m.created_at, m.author,"
        " f.name AS sent_by_name, o.id AS o_id, o.person_id AS o_person,"
        " o.address_id AS o_address, o.payload_enc, o.status AS delivery, o.not_before"
        " FROM messages m LEFT JOIN outbox o ON o.id = m.outbox_id"
        " LEFT JOIN facilitators f ON f.id = m.sent_by"
        " WHERE m.person_id = ? ORDER BY m.id", (person_id,)
    ):
        text = text_of(cipher, r, "messages", "body_enc")
        if r["direction"] == "in":
            entries.append(Entry(r["created_at"], "message_in", text, source=PERSON,
                                 chose=chosen(text, offered)))
            offered = ()
            continue
        offered = _choices(cipher, r)
        status = r["delivery"] or ""
        if status == "pending" and r["not_before"] and r["not_before"] > r["created_at"]:
            status = "waiting for safe time"
        source, name = _writer(r["author"], r["sent_by_name"])
        entries.append(Entry(r["created_at"], "message_out", text, status, author=name,
                             source=source, choices=offered))
    return entries


def _writer(author: str | None, name: str | None) -> tuple[str, str]:
    """(source, facilitator's name) of a message to the person."""
    if author == FACILITATOR and name:
        return FACILITATOR, name
    if author in (BOT, PASSED_ON):
        return author, ""
    return TEAM, ""  # a facilitator whose account is not known, or a message from before


def _choices(cipher: Cipher, r: sqlite3.Row) -> tuple[str, ...]:
    """The labels offered with a message, from its outbox row (none once erased)."""
    if r["o_id"] is None or not r["payload_enc"]:
        return ()
    row = {"id": r["o_id"], "person_id": r["o_person"], "address_id": r["o_address"],
           "payload_enc": r["payload_enc"]}
    try:
        payload = json.loads(sealed.open_in(cipher, r["payload_enc"], "outbox", "payload_enc",
                                            row))
    except sealed.Tampered:
        return ()  # the sender quarantines such a row; the page still shows the message
    return tuple(str(label) for _, label in payload.get("choices", ()))


def chosen(text: str, choices: tuple[str, ...]) -> str:
    """'2 — Text' when a reply is one of the choices by its number or its words, else ''."""
    said = normalise(text)
    if not said or not choices:
        return ""
    if said.isdecimal():
        number = int(said) if 1 <= int(said) <= len(choices) else 0
    else:
        number = next((n for n, label in enumerate(choices, start=1)
                       if normalise(label) == said), 0)
    return f"{number} — {choices[number - 1]}" if number else ""
