"""Agency referrals: a person and a case created by staff, not by the person's own message."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import records

REPLY_WITHIN = 48 * 3600.0


@dataclass(frozen=True)
class Referral:
    """What the form says; `details` is personal and stored encrypted."""

    org_type: str
    consent_sms: bool
    phone: str  # E.164, or "" when no SMS contact was agreed
    flags: tuple[str, ...]
    details: dict[str, Any]
    kind: str = "victim"  # or "other_party": the person who caused the harm (cases.kind)


class AlreadyOpen(Exception):
    """The person already has an open case; the referral should be added to it by hand."""

    def __init__(self, case_id: int) -> None:
        super().__init__(f"open case {case_id}")
        self.case_id = case_id


def create(conn: sqlite3.Connection, cipher: Cipher, ref: Referral, by: str,
           now: float) -> tuple[int, int]:
    """(person id, case id). Only an agreed SMS contact creates an address we may write to."""
    if ref.consent_sms and ref.phone:
        person_id, _, created = records.find_or_create_person(conn, cipher, "sms", ref.phone, now)
        existing = None if created else _open_case(conn, person_id)
        if existing is not None:
            raise AlreadyOpen(existing)
    else:
        row_id = conn.execute("INSERT INTO people (created_at) VALUES (?)", (now,)).lastrowid
        assert row_id is not None
        person_id = row_id
    case_data = {k: ref.details[k] for k in ("name", "area") if ref.details.get(k)}
    case_id = sealed.next_id(conn, "cases")
    conn.execute(
        "INSERT INTO cases (id, person_id, stage, reply_due_at, flags, data_enc, created_at,"
        " updated_at, kind) VALUES (?, ?, 'new_contact', ?, ?, ?, ?, ?, ?)",
        (case_id, person_id, now + REPLY_WITHIN, ",".join(("referral", *ref.flags)),
         sealed.seal(cipher, json.dumps(case_data, ensure_ascii=False), "cases", "data_enc",
                     id=case_id, person_id=person_id), now, now, ref.kind),
    )
    referral_id = sealed.next_id(conn, "referrals")
    conn.execute(
        "INSERT INTO referrals (id, person_id, case_id, org_type, consent_sms, data_enc,"
        " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (referral_id, person_id, case_id, ref.org_type, int(ref.consent_sms),
         sealed.seal(cipher, json.dumps(ref.details, ensure_ascii=False), "referrals",
                     "data_enc", id=referral_id, person_id=person_id), by, now),
    )
    records.audit(conn, by, "referral_created", now, person_id, case_id,
                  {"org_type": ref.org_type, "consent_sms": ref.consent_sms, "kind": ref.kind,
                   "flags": list(ref.flags)})
    return person_id, case_id


def _open_case(conn: sqlite3.Connection, person_id: int) -> int | None:
    row = conn.execute("SELECT max(id) AS id FROM cases WHERE person_id = ? AND closed_at IS NULL",
                       (person_id,)).fetchone()
    return int(row["id"]) if row and row["id"] is not None else None
