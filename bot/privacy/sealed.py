"""Every encrypted column, so export, erasure and key rotation miss none of them.

A module that adds a table with personal content adds its columns here. Each value is sealed
with associated data naming its table, column and row (`ad`): a value copied into another row,
or a row pointed at another person, no longer opens (`Tampered`), so someone with write access
to the file but not the key cannot send one person's replies to another's number.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.crypto import Cipher

Row = Mapping[str, Any] | sqlite3.Row

# tables keyed by case: the person is the case's
CASE_PERSON = "(SELECT cases.person_id FROM cases WHERE cases.id = case_id)"


@dataclass(frozen=True)
class Sealed:
    table: str
    column: str
    context: str  # the AES-GCM associated data the column is sealed with
    person: str  # SQL expression, over the table, that gives the person id
    keys: tuple[str, ...] = ("id",)  # the row's columns bound into the associated data
    per_row: bool = False  # before binding: sealed with f"{context}:{row id}"

    def context_for(self, row_id: int) -> str:
        """The associated data before binding (databases from before migration 'bound')."""
        return f"{self.context}:{row_id}" if self.per_row else self.context

    @functools.cached_property
    def _ad_format(self) -> str:
        """"table.column:id={},person_id={}": every value sealed or opened formats one."""
        keys = ",".join(f"{k}={{}}" for k in self.keys)
        return f"{self.table}.{self.column}:{keys}"

    def ad_of(self, row: Row) -> str:
        """The associated data of this column in `row` (which holds the key columns)."""
        return self._ad_format.format(*[row[k] for k in self.keys])


LETTER_PERSON = "(SELECT l.person_id FROM letters l WHERE l.id = letter_id)"
PERSON_ROW = ("id", "person_id")

SEALED: list[Sealed] = [
    Sealed("addresses", "address_enc", "address", "person_id", ("id", "person_id", "channel")),
    Sealed("conversations", "state_enc", "state", "person_id", ("person_id",)),
    Sealed("messages", "body_enc", "message", "person_id", PERSON_ROW),
    Sealed("outbox", "payload_enc", "outbox", "person_id", ("id", "person_id", "address_id")),
    Sealed("cases", "data_enc", "case", "person_id", PERSON_ROW),
    Sealed("referrals", "data_enc", "referral", "person_id", PERSON_ROW),
    Sealed("meetings", "place_enc", "meeting", CASE_PERSON, ("id", "case_id")),
    # why an appointment did not happen, as the facilitator recorded it
    Sealed("meetings", "missed_reason_enc", "meeting_missed", CASE_PERSON, ("id", "case_id")),
    Sealed("other_parties", "data_enc", "other_party", CASE_PERSON, ("case_id",)),
    Sealed("outcome_items", "item_enc", "outcome", CASE_PERSON, ("id", "case_id")),
    Sealed("letter_versions", "body_enc", "letter", LETTER_PERSON, ("id", "letter_id")),
    Sealed("letter_versions", "reason_enc", "letter_reason", LETTER_PERSON,
           ("id", "letter_id")),
    # the meeting script (bot.store.scripts): each side's copy, and the changes asked for
    Sealed("script_versions", "body_enc", "script",
           "(SELECT s.person_id FROM scripts s WHERE s.id = script_id)", ("id", "script_id")),
    Sealed("script_requests", "body_enc", "script_request",
           "(SELECT s.person_id FROM scripts s WHERE s.id = script_id)", ("id", "script_id")),
    # a facilitator's note or contact log entry on a case (bot.store.notes)
    Sealed("case_notes", "body_enc", "case_note", CASE_PERSON, ("id", "case_id")),
    # a console form kept when its author's session ended (bot.console.drafts)
    Sealed("console_drafts", "fields_enc", "draft", CASE_PERSON,
           ("id", "case_id", "facilitator_id")),
    # what was done about a risk alert (bot.store.casework.resolve_risk)
    Sealed("alerts", "note_enc", "alert", "person_id", per_row=True),
    # a staff member's on-call number or address (bot.oncall): rotated with the key, but
    # never part of a person's export or erasure
    Sealed("notices", "address_enc", "notice", "NULL", ("channel", "recipient")),
    # a console account's TOTP secret (bot.store.secondfactor), bound to the account:
    # rotated with the key, never part of a person's export or erasure
    Sealed("facilitators", "totp_secret_enc", "totp", "NULL", ("id", "email")),
]

BY_COLUMN = {(s.table, s.column): s for s in SEALED}


class Tampered(Exception):
    """A sealed value does not open in its place: moved from another row, or its row changed."""

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"a sealed value in {table}.{column} does not belong to its row")
        self.table, self.column = table, column


def ad(table: str, column: str, **keys: Any) -> str:
    """The associated data a value of `table.column` is sealed with in the row `keys`."""
    return BY_COLUMN[(table, column)].ad_of(keys)


def seal(cipher: Cipher, plain: str, table: str, column: str, **keys: Any) -> bytes:
    return cipher.seal(plain, ad(table, column, **keys))


def open_in(cipher: Cipher, blob: bytes, table: str, column: str, row: Row) -> str:
    """Open a value where it is stored; `Tampered` if it was sealed for another place."""
    from cryptography.exceptions import InvalidTag

    try:
        return cipher.open(blob, BY_COLUMN[(table, column)].ad_of(row))
    except InvalidTag as exc:
        raise Tampered(table, column) from exc


def next_id(conn: sqlite3.Connection, table: str) -> int:
    """The id a new row will get (the writer holds the lock), so it can be sealed in place."""
    found = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()  # noqa: S608  # nosec B608
    return int(found[0])
