"""Access requests and erasure for one person, found by one of their addresses."""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from bot.channels.phone import e164
from bot.crypto import Cipher
from bot.flows import passphrase
from bot.privacy import sealed
from bot.privacy.sealed import SEALED
from bot.store import letters, name_index, notes, records, scripts

CHANNELS = ("sms", "telegram", "whatsapp")
PHONE_CHANNELS = ("sms", "whatsapp")  # addressed by phone number, stored in E.164


def find_people(conn: sqlite3.Connection, cipher: Cipher, address: str) -> list[int]:
    """Everyone holding this address on any channel (normally one person)."""
    address = address.strip().removeprefix("whatsapp:")
    tried = [(ch, address) for ch in CHANNELS]
    # a phone number as typed by staff ("07700 900777", "+44 7700 900777"): stored in E.164
    if (number := e164(address)) and number != address:
        tried += [(ch, number) for ch in PHONE_CHANNELS]
    found = {records.find_address(conn, cipher, ch, a) for ch, a in tried}
    return sorted({f[0] for f in found if f is not None})


def _without_secrets(value: Any) -> Any:
    """The conversation minus the secret word's hash and its bookkeeping (never handed out:
    a hash of a short word is easily guessed offline)."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in passphrase.HIDDEN}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, params).fetchall()]


def export(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> dict[str, Any]:
    """Everything held about one person, decrypted, as plain data."""

    def opened(row: sqlite3.Row, table: str, column: str) -> str | None:
        return sealed.open_in(cipher, row[column], table, column, row) if row[column] else None

    state = conn.execute("SELECT person_id, state_enc FROM conversations WHERE person_id = ?",
                         (person_id,)).fetchone()
    return {
        "person": _rows(conn, "SELECT id, created_at, status, locale, opted_out FROM people"
                              " WHERE id = ?", person_id),
        "addresses": [
            {"channel": r["channel"], "address": opened(r, "addresses", "address_enc"),
             "created_at": r["created_at"]}
            for r in conn.execute("SELECT * FROM addresses WHERE person_id = ?", (person_id,))
        ],
        "conversation": _without_secrets(
            json.loads(opened(state, "conversations", "state_enc") or "{}") if state else {}),
        "messages": [
            {"direction": r["direction"], "channel": r["channel"], "at": r["created_at"],
             "text": opened(r, "messages", "body_enc")}
            for r in conn.execute("SELECT * FROM messages WHERE person_id = ? ORDER BY id",
                                  (person_id,))
        ],
        "cases": [
            {"id": r["id"], "stage": r["stage"], "created_at": r["created_at"],
             "closed_at": r["closed_at"], "flags": r["flags"],
             "details": json.loads(opened(r, "cases", "data_enc") or "{}")}
            for r in conn.execute("SELECT * FROM cases WHERE person_id = ?", (person_id,))
        ],
        **_case_work(conn, cipher, person_id),
        "consents": _rows(conn, "SELECT version, scopes, channel, agreed_at, withdrawn_at"
                                " FROM consents WHERE person_id = ?", person_id),
        "alerts": _rows(conn, "SELECT kind, created_at, handled_at FROM alerts"
                              " WHERE person_id = ?", person_id),
        "scheduled": _rows(conn, "SELECT kind, due_at, status FROM jobs WHERE person_id = ?",
                           person_id),
        "audit": [{"at": r["at"], "actor": _actor(r["actor"]), "action": r["action"]}
                  for r in conn.execute("SELECT at, actor, action FROM audit"
                                        " WHERE person_id = ? ORDER BY id", (person_id,))],
        "letters": _letters(conn, cipher, person_id),
        "scripts": _scripts(conn, cipher, person_id),
        "left_out": list(LEFT_OUT),
    }


# what an access request leaves out, said in the export: it is about other people
LEFT_OUT = (
    "What we hold about the other person in your case (their name, contact details and what"
    " they said), and their copy of the meeting script.",
    "Letters from the other person that we have not approved and passed on to you.",
    "The names and contact details of the people who referred you to us, and their notes"
    " (they may name other people). Ask us if you want them: we will check them first.",
    "The names and email addresses of our staff (shown as 'our team').",
)
# referral fields about other people (the referrer, the person responsible) or free notes
THIRD_PARTY = ("referrer_name", "referrer_contact", "notes", "offender_adult",
               "offender_address")


def _own_part(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k not in THIRD_PARTY}


def _actor(actor: str) -> str:
    """Who did it, in plain words: staff are 'our team' (their addresses are theirs)."""
    return {"person": "you", "bot": "the assistant", "cli": "our team"}.get(
        actor, "the assistant" if actor in ("oncall", "retention", "scheduler") else "our team")


def _case_work(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> dict[str, Any]:
    """What the facilitators recorded: referrals, meetings, the other party, outcome items."""
    def opened(row: sqlite3.Row, table: str, column: str) -> Any:
        blob = row[column]
        return json.loads(sealed.open_in(cipher, blob, table, column, row)) if blob else None

    return {
        "referrals": [
            {"org_type": r["org_type"], "created_at": r["created_at"],
             "details": _own_part(opened(r, "referrals", "data_enc") or {})}
            for r in conn.execute("SELECT * FROM referrals WHERE person_id = ? ORDER BY id",
                                  (person_id,))],
        "meetings": [
            {"case": r["case_id"], "kind": r["kind"], "mode": r["mode"], "at": r["at"],
             "held_at": r["held_at"], "missed_at": r["missed_at"],
             "moved_from": r["moved_from"],
             "place": sealed.open_in(cipher, r["place_enc"], "meetings", "place_enc", r)
             if r["place_enc"] else None,
             "missed_reason": sealed.open_in(cipher, r["missed_reason_enc"], "meetings",
                                             "missed_reason_enc", r)
             if r["missed_reason_enc"] else None}
            for r in conn.execute("SELECT * FROM meetings WHERE case_id IN"
                                  " (SELECT id FROM cases WHERE person_id = ?)"
                                  " ORDER BY at", (person_id,))],
        "outcome_items": [
            {"case": r["case_id"], "item": opened(r, "outcome_items", "item_enc"),
             "due_on": r["due_on"], "done_at": r["done_at"]}
            for r in conn.execute("SELECT * FROM outcome_items WHERE case_id IN"
                                  " (SELECT id FROM cases WHERE person_id = ?)"
                                  " ORDER BY id", (person_id,))],
        # the case notes and contact log: what our team recorded about them (bot.store.notes)
        "notes": [
            {"case": n.case_id, "at": n.happened_at, "how": n.how, "by": "our team",
             "with": n.fields.get("with", ""), "what": n.fields.get("what", ""),
             "agreed": n.fields.get("agreed", "")}
            for n in notes.of_person(conn, cipher, person_id)],
    }


def _letters(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> list[dict[str, Any]]:
    """Their letters with every wording they wrote or were shown for approval; for letters to
    them, what happened, and the approved words once passed on (before that they are only the
    other party's)."""
    out = []
    for r in conn.execute("SELECT id, direction, status, created_at, read_at, approved_version,"
                          " delivered_at FROM letters WHERE person_id = ? ORDER BY id",
                          (person_id,)).fetchall():
        item: dict[str, Any] = {k: r[k] for k in ("id", "direction", "status", "created_at",
                                                   "read_at")}
        if r["direction"] == "to_victim" and r["delivered_at"] and r["approved_version"]:
            item["versions"] = [  # passed on to them: the approved words are theirs to have
                {"number": v.number, "by": "the other person", "status": "passed on to you",
                 "text": v.body}
                for v in letters.versions(conn, cipher, r["id"])
                if v.number == r["approved_version"]]
        elif r["direction"] == "to_other":
            item["versions"] = [
                {"number": v.number, "by": "you" if v.author_kind == "victim" else "our team",
                 "status": v.status, "text": v.body}
                for v in letters.versions(conn, cipher, r["id"])]
        out.append(item)
    return out


def _scripts(conn: sqlite3.Connection, cipher: Cipher, person_id: int) -> dict[str, Any]:
    """Their copy of the meeting script, every version, and the changes they asked for (the
    other party's copy is another person's document)."""
    cases = [r[0] for r in conn.execute("SELECT id FROM cases WHERE person_id = ?", (person_id,))]
    versions = [v for case in cases for v in scripts.versions(conn, cipher, case)
                if v.side == "victim"]
    return {
        "versions": [{"version": v.number, "shared_at": v.created_at, "read_at": v.read_at,
                      "text": v.body} for v in versions],
        "requests": [{"version": r.version, "at": r.created_at, "text": r.body}
                     for case in cases for r in scripts.requests(conn, cipher, case)],
    }


def has_content(conn: sqlite3.Connection, person_id: int) -> bool:
    """Whether any sealed personal content about this person is still held (content added
    after an earlier erasure included), so erasure is never a one-off flag."""
    for s in SEALED:
        if conn.execute(f"SELECT 1 FROM {s.table} WHERE {s.person} = ?"  # noqa: S608  # nosec B608
                        f" AND length({s.column}) > 0 LIMIT 1", (person_id,)).fetchone():
            return True
    return False


def people_with_content(conn: sqlite3.Connection) -> set[int]:
    """Everyone about whom some sealed content is held: one pass over each sealed column."""
    found: set[int] = set()
    for s in SEALED:
        found.update(r[0] for r in conn.execute(
            f"SELECT DISTINCT {s.person} FROM {s.table} WHERE length({s.column}) > 0")  # noqa: S608  # nosec B608
            if r[0] is not None)
    return found


def erase(conn: sqlite3.Connection, person_id: int, now: float, actor: str) -> None:
    """Remove personal content; keep the skeleton (ids, times, kinds) and the audit log.

    Erasure also ends the relationship: the person's cases are closed, their addresses can be
    neither found nor used, nothing queued or scheduled for them goes out, and their link
    codes are deleted. It may run again (content added afterwards is erased too).
    """
    for s in SEALED:
        if s.table in ("conversations",):
            continue
        conn.execute(f"UPDATE {s.table} SET {s.column} = X'' WHERE {s.person} = ?",  # noqa: S608  # nosec B608
                     (person_id,))
    conn.execute("DELETE FROM conversations WHERE person_id = ?", (person_id,))
    name_index.forget(conn, person_id)  # the keyed hashes of their name's words
    # a random hash: the address can no longer be found, and a new contact starts afresh; the
    # row (channel, times) stays for the anonymised counts, its address_enc is blank above
    for (address_id,) in conn.execute("SELECT id FROM addresses WHERE person_id = ?",
                                      (person_id,)).fetchall():
        conn.execute("UPDATE addresses SET address_hash = ? WHERE id = ?",
                     (secrets.token_bytes(32), address_id))
    # 'sending' too: a send in flight may still be marked sent, but after a crash the row must
    # not be reconciled, as its payload and address can no longer be read
    conn.execute("UPDATE outbox SET status = 'cancelled' WHERE person_id = ?"
                 " AND status IN ('pending', 'held', 'sending')", (person_id,))
    conn.execute("UPDATE jobs SET status = 'cancelled', done_at = ? WHERE person_id = ?"
                 " AND status = 'pending'", (now, person_id))
    conn.execute("DELETE FROM link_codes WHERE person_id = ?", (person_id,))
    conn.execute("UPDATE cases SET closed_at = coalesce(closed_at, ?) WHERE person_id = ?",
                 (now, person_id))
    conn.execute("UPDATE people SET status = 'erased' WHERE id = ?", (person_id,))
    records.audit(conn, actor, "erased", now, person_id)


def is_erased(conn: sqlite3.Connection, person_id: int) -> bool:
    row = conn.execute("SELECT status FROM people WHERE id = ?", (person_id,)).fetchone()
    return row is not None and row[0] == "erased"


def refuse_erasure(conn: sqlite3.Connection, person_id: int, now: float, actor: str,
                   exemption: str) -> None:
    """A refused erasure is recorded with the exemption relied on."""
    records.audit(conn, actor, "erasure_refused", now, person_id,
                  detail={"exemption": exemption[:200]})
