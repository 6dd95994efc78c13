"""One case, decrypted, for the case page: the person harmed, their choices, the timeline.

Only the console calls this, for an assigned facilitator or a supervisor, and it writes an
audit row for every read (see bot.console.case).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import casework, notes, records, thread
from bot.store.casework import AlertRow
from bot.store.thread import Entry

__all__ = ["CaseAlert", "CaseFile", "Entry", "load"]


@dataclass
class CaseFile:
    case: dict[str, Any]
    person: dict[str, Any]
    answers: dict[str, Any]
    consents: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    other_party: dict[str, Any] | None = None
    outcome_items: list[dict[str, Any]] = field(default_factory=list)
    referral: dict[str, Any] | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)


def _person(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> dict[str, Any]:
    person = dict(conn.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone())
    rows = conn.execute("SELECT id, person_id, channel, address_enc, last_seen_at FROM addresses"
                        " WHERE person_id = ? ORDER BY last_seen_at DESC, id DESC", (person_id,))
    person["addresses"] = [
        {"channel": r["channel"], "address": _text(cipher, r, "addresses", "address_enc"),
         "last_seen_at": r["last_seen_at"]}
        for r in rows
    ]
    return person


def _case_data(cipher: Cipher, row: sqlite3.Row) -> dict[str, Any]:
    case = dict(row)
    case.pop("data_enc", None)
    case["data"] = json.loads(sealed.open_in(cipher, row["data_enc"], "cases", "data_enc",
                                             row)) if row["data_enc"] else {}
    return case


ERASED = thread.ERASED
_text = thread.text_of


class _Erased(dict[str, Any]):
    """An erased record: every field reads "(erased)", so pages still render after erasure."""

    def __missing__(self, key: str) -> str:
        return ERASED


def _decrypted(cipher: Cipher, row: sealed.Row, table: str, column: str,
               plain: dict[str, Any]) -> dict[str, Any]:
    """The sealed fields of a record, with its plain columns added."""
    blob = row[column]
    if blob is None:
        found: dict[str, Any] = {}
    elif blob:
        found = dict(json.loads(sealed.open_in(cipher, blob, table, column, row)))
    else:
        found = _Erased()
    found.update(plain)
    return found


def load(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> CaseFile | None:
    row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        return None
    pid = row["person_id"]
    state, _ = records.load_state(conn, cipher, pid)
    cf = CaseFile(_case_data(cipher, row), _person(conn, cipher, pid), dict(state.answers))
    cf.person["state_status"] = state.status
    cf.person["locale"] = state.locale
    cf.consents = [dict(r) for r in conn.execute(
        "SELECT version, scopes, channel, agreed_at, withdrawn_at FROM consents"
        " WHERE person_id = ? ORDER BY agreed_at, id", (pid,))]
    cf.meetings = _meetings(conn, cipher, case_id)
    other = conn.execute("SELECT * FROM other_parties WHERE case_id = ?", (case_id,)).fetchone()
    if other is not None:
        cf.other_party = _decrypted(cipher, other, "other_parties", "data_enc", {
            "accepted_responsibility": bool(other["accepted_responsibility"]),
            "risk_assessed": bool(other["risk_assessed"]),
            "updated_by": other["updated_by"], "updated_at": other["updated_at"],
            "version": other["version"]})
    cf.outcome_items = [
        _decrypted(cipher, r, "outcome_items", "item_enc", {
            "id": r["id"], "due_on": r["due_on"], "review_at": r["review_at"],
            "done_at": r["done_at"]})
        for r in conn.execute("SELECT * FROM outcome_items WHERE case_id = ? ORDER BY id",
                              (case_id,))
    ]
    ref = conn.execute("SELECT * FROM referrals WHERE case_id = ? ORDER BY id DESC LIMIT 1",
                       (case_id,)).fetchone()
    if ref is not None:
        cf.referral = _decrypted(cipher, ref, "referrals", "data_enc", {
            "org_type": ref["org_type"], "consent_sms": bool(ref["consent_sms"]),
            "created_by": ref["created_by"], "created_at": ref["created_at"]})
    cf.jobs = [dict(r) for r in conn.execute(
        "SELECT id, kind, due_at, status, data FROM jobs WHERE person_id = ?"
        " ORDER BY due_at, id", (pid,))]
    cf.timeline = _timeline(conn, cipher, pid, cf)
    return cf


def _meetings(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> list[dict[str, Any]]:
    """The case's appointments, soonest first; `latest`: the newest of its kind (the one the
    conversation and its reminder follow)."""
    rows = conn.execute("SELECT * FROM meetings WHERE case_id = ? ORDER BY at, id",
                        (case_id,)).fetchall()
    newest = {r["kind"]: r["id"] for r in sorted(rows, key=lambda r: r["id"])}
    return [
        {**dict(r), "place_enc": None, "missed_reason_enc": None,
         "place": _text(cipher, r, "meetings", "place_enc") if r["place_enc"] else "",
         "missed_reason": _text(cipher, r, "meetings", "missed_reason_enc")
         if r["missed_reason_enc"] else "", "latest": newest[r["kind"]] == r["id"]}
        for r in rows
    ]


def _timeline(conn: sqlite3.Connection, cipher: Cipher, person_id: int,
              cf: CaseFile) -> list[Entry]:
    """Messages both ways (with delivery status, writer and choices), jobs, meetings and
    notes, oldest first."""
    entries = thread.messages(conn, cipher, person_id)
    entries.extend(Entry(j["due_at"], "job", j["kind"], j["status"]) for j in cf.jobs)
    entries.extend(Entry(m["at"], "meeting", m["kind"],
                         "held" if m["held_at"] else "did not happen" if m["missed_at"]
                         else "planned", m["mode"]) for m in cf.meetings)
    entries.extend(_notes(conn, cipher, cf.case["id"]))
    return sorted(entries, key=lambda e: e.at)


def _notes(conn: sqlite3.Connection, cipher: Cipher, case_id: int) -> list[Entry]:
    """The case's notes and contact log, each with its author's name."""
    names = {r["email"]: r["name"] for r in conn.execute("SELECT email, name FROM facilitators")}
    return [Entry(n.happened_at, "note", n.fields.get("what", ""), detail=n.how,
                  author=names.get(n.created_by, n.created_by), note=n.fields)
            for n in notes.of_case(conn, cipher, case_id)]


# the answers that say how (and whether) the person may be contacted
SAFE_CONTACT = ("safe", "discreet", "safe_times", "voicemail")


def safe_contact(cf: CaseFile) -> dict[str, Any]:
    """The person's safe-contact answers: the case's copy, else what they said so far."""
    data: dict[str, Any] = cf.case.get("data") or {}
    return {k: data[k] if k in data else cf.answers[k] for k in SAFE_CONTACT
            if k in data or k in cf.answers}


@dataclass(frozen=True)
class CaseAlert:
    """A risk alert or a waiting message on the case page, with the words behind it."""

    row: AlertRow
    text: str = ""  # the person's message ("" when none is recorded)
    text_at: float | None = None
    linked: bool = True  # False: the alert names no message; this is their last one before it
    handled_by: str = ""
    note: str = ""


def case_alerts(conn: sqlite3.Connection, cipher: Cipher, case_id: int,
                messages: bool) -> list[CaseAlert]:
    """The case's risk alerts (open ones with their words, resolved ones with their notes)
    and, when `messages`, the waiting messages with their text; oldest first."""
    out = []
    for row in casework.case_alerts(conn, case_id, messages):
        if row.handled_at is None:
            out.append(CaseAlert(row, *_words(conn, cipher, row)))
            continue
        blob = casework.note_of(conn, row.id)
        note = "" if blob is None else _text(cipher, {"id": row.id, "note_enc": blob}, "alerts",
                                              "note_enc")
        out.append(CaseAlert(row, handled_by=row.handled_by or "", note=note))
    return out


def _words(conn: sqlite3.Connection, cipher: Cipher,
           row: AlertRow) -> tuple[str, float | None, bool]:
    """The message an alert names; for older alerts, the person's last message before it."""
    named = row.details.get("message")
    if isinstance(named, int):
        found = conn.execute("SELECT id, person_id, body_enc, created_at FROM messages WHERE id = ?"
                             " AND person_id = ?", (named, row.person_id)).fetchone()
        if found is not None:
            return _text(cipher, found, "messages", "body_enc"), found["created_at"], True
    found = conn.execute(
        "SELECT id, person_id, body_enc, created_at FROM messages WHERE person_id = ?"
        " AND direction = 'in' AND created_at <= ? ORDER BY id DESC LIMIT 1",
        (row.person_id, row.created_at)
    ).fetchone()
    if found is None:
        return "", None, False
    return _text(cipher, found, "messages", "body_enc"), found["created_at"], False
