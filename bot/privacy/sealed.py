"""Every encrypted column, so export, erasure and key rotation miss none of them.

A module that adds a table with personal content adds its columns here.
"""

from __future__ import annotations

from dataclasses import dataclass

# tables keyed by case: the person is the case's
CASE_PERSON = "(SELECT cases.person_id FROM cases WHERE cases.id = case_id)"


@dataclass(frozen=True)
class Sealed:
    table: str
    column: str
    context: str  # the AES-GCM associated data the column is sealed with
    person: str  # SQL expression, over the table, that gives the person id
    per_row: bool = False  # sealed with f"{context}:{row id}", bound to its row

    def context_for(self, row_id: int) -> str:
        return f"{self.context}:{row_id}" if self.per_row else self.context


SEALED: list[Sealed] = [
    Sealed("addresses", "address_enc", "address", "person_id"),
    Sealed("conversations", "state_enc", "state", "person_id"),
    Sealed("messages", "body_enc", "message", "person_id"),
    Sealed("outbox", "payload_enc", "outbox", "person_id"),
    Sealed("cases", "data_enc", "case", "person_id"),
    Sealed("referrals", "data_enc", "referral", "person_id"),
    Sealed("meetings", "place_enc", "meeting", CASE_PERSON),
    Sealed("other_parties", "data_enc", "other_party", CASE_PERSON),
    Sealed("outcome_items", "item_enc", "outcome", CASE_PERSON),
    Sealed("letter_versions", "body_enc", "letter",
           "(SELECT l.person_id FROM letters l WHERE l.id = letter_id)"),
    Sealed("letter_versions", "reason_enc", "letter_reason",
           "(SELECT l.person_id FROM letters l WHERE l.id = letter_id)"),
    # the meeting script (bot.store.scripts): each side's copy, and the changes asked for
    Sealed("script_versions", "body_enc", "script",
           "(SELECT s.person_id FROM scripts s WHERE s.id = script_id)"),
    Sealed("script_requests", "body_enc", "script_request",
           "(SELECT s.person_id FROM scripts s WHERE s.id = script_id)"),
    # what was done about a risk alert (bot.store.casework.resolve_risk)
    Sealed("alerts", "note_enc", "alert", "person_id", per_row=True),
    # a staff member's on-call number or address (bot.oncall): rotated with the key, but
    # never part of a person's export or erasure
    Sealed("notices", "address_enc", "notice", "NULL"),
]
