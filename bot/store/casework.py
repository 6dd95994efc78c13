"""What the console lists and records about cases: queues, meetings, the other party, outcomes.

Queues carry no personal content (ids, stages, times), so the dashboard needs no decryption;
personal details are read through bot.store.casefile, which the console audits.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.crypto import Cipher
from bot.privacy import sealed

# alert kinds grouped the way the dashboard shows them; anything else is "other"
ALERT_GROUPS: dict[str, tuple[str, ...]] = {
    "risk": ("risk", "risk_unseen", "notice_failed"),
    "messages": ("message",),  # a message that answered no question, waiting for a person
    "letters": ("letter_submitted", "letter_for_review", "letter_review", "letter_declined",
                "letter_withheld", "script_change"),
    "withdrawals": ("withdrawn", "opted_out", "consent_withdrawn"),
    "checkins": ("checkin_low", "low_score", "checkin_help"),
}
# the case an alert belongs to: its own, or (raised before the person had one) their latest
ALERT_CASE = ("coalesce(al.case_id, (SELECT max(c.id) FROM cases c"
              " WHERE c.person_id = al.person_id))")


@dataclass(frozen=True)
class CaseRow:
    id: int
    person_id: int
    stage: str
    reply_due_at: float | None
    flags: str
    created_at: float
    closed_at: float | None
    channel: str
    assigned: str  # names, comma separated
    person_status: str
    opted_out: int
    locale: str = "en_GB"  # the language the person chose

    @property
    def unfinished(self) -> bool:
        """The person has not finished the first questions: an enquiry, safety unconfirmed."""
        return "unfinished" in self.flags.split(",")


_CASE_SELECT = (
    "SELECT c.id, c.person_id, c.stage, c.reply_due_at, c.flags, c.created_at, c.closed_at,"
    " coalesce((SELECT a.channel FROM addresses a WHERE a.person_id = c.person_id"
    "  ORDER BY a.last_seen_at DESC, a.id DESC LIMIT 1), '') AS channel,"
    " coalesce((SELECT group_concat(f.name, ', ') FROM case_assignments x JOIN facilitators f"
    "  ON f.id = x.facilitator_id WHERE x.case_id = c.id), '') AS assigned,"
    " p.status AS person_status, p.opted_out, p.locale"
    " FROM cases c JOIN people p ON p.id = c.person_id"
)


def _visible(user_id: int | None) -> tuple[str, list[Any]]:
    """SQL that limits cases to those assigned to a facilitator (None: a supervisor)."""
    if user_id is None:
        return "TRUE", []
    return ("EXISTS (SELECT 1 FROM case_assignments x WHERE x.case_id = c.id"
            " AND x.facilitator_id = ?)", [user_id])


def _cases(conn: sqlite3.Connection, where: str, params: list[Any], order: str) -> list[CaseRow]:
    rows = conn.execute(f"{_CASE_SELECT} WHERE {where} ORDER BY {order}", params)
    return [CaseRow(**dict(r)) for r in rows]


def case(conn: sqlite3.Connection, case_id: int) -> CaseRow | None:
    found = _cases(conn, "c.id = ?", [case_id], "c.id")
    return found[0] if found else None


# a person who withdrew or was erased: no reply clock runs for them (their jobs are cancelled)
STOPPED = "('withdrawn', 'erased')"
# alerts still wanted on the dashboard: none for an erased person, and once the case is closed
# only risk alerts and what came after the closing (a feedback comment, words to read); the
# rest was about the case's work (ALERT_CASE is the alert's case)
_LIVE = (" AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = al.person_id AND"  # noqa: S608  # nosec B608
         " p.status = 'erased') AND (al.kind = 'risk' OR coalesce((SELECT c.closed_at IS NULL"
         " OR al.created_at > c.closed_at FROM cases c WHERE c.id = " + ALERT_CASE + "), TRUE))")
# alerts that ask for the first reply to a new contact: dealt with once the reply is recorded
NEW_CONTACT_ALERTS = ("new_contact", "referral", "reply_reminder", "reply_overdue")


def new_contacts(conn: sqlite3.Connection, user_id: int | None) -> list[CaseRow]:
    """Open cases still waiting for the first reply: the oldest promise (or overdue) first."""
    vis, params = _visible(user_id)
    return _cases(conn, f"c.closed_at IS NULL AND c.stage = 'new_contact' AND {vis}"
                  f" AND p.status NOT IN {STOPPED}", params,
                  "c.reply_due_at IS NULL, c.reply_due_at, c.id")


def open_cases(conn: sqlite3.Connection, user_id: int | None) -> list[CaseRow]:
    vis, params = _visible(user_id)
    return _cases(conn, f"c.closed_at IS NULL AND (c.stage != 'new_contact' OR p.status IN"
                  f" {STOPPED}) AND {vis}", params, "c.updated_at DESC, c.id")


def unassigned(conn: sqlite3.Connection) -> list[CaseRow]:
    where = ("c.closed_at IS NULL AND (SELECT count(*) FROM case_assignments x"
             " WHERE x.case_id = c.id) < 2")
    return _cases(conn, where, [], "c.created_at, c.id")


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    person_id: int | None
    case_id: int | None
    created_at: float
    data: str = "{}"  # plain JSON: ids and codes only (bot/store/schema.py)
    case_flags: str = ""
    handled_at: float | None = None
    handled_by: str | None = None
    seen_at: float | None = None  # a risk alert marked seen (bot.oncall stops escalating)
    seen_by: str | None = None

    @property
    def details(self) -> dict[str, Any]:
        """The alert's data; {} for rows written before alerts carried any."""
        try:
            found = json.loads(self.data or "{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    @property
    def unfinished(self) -> bool:
        return "unfinished" in self.case_flags.split(",")


_ALERT_SELECT = (
    "SELECT x.*, coalesce((SELECT c.flags FROM cases c WHERE c.id = x.case_id), '')"  # noqa: S608  # nosec B608
    " AS case_flags FROM (SELECT al.id, al.kind, al.person_id, " + ALERT_CASE + " AS case_id,"
    " al.created_at, al.data, al.handled_at, al.handled_by, al.seen_at, al.seen_by"
    " FROM alerts al"
)
# every facilitator on duty sees risk alerts (and may act on them), whoever has the case
_MINE_OR_RISK = (" AND (al.kind = 'risk' OR EXISTS (SELECT 1 FROM case_assignments x"
                 " JOIN cases c ON c.id = x.case_id WHERE x.facilitator_id = ?"
                 " AND (c.id = al.case_id OR c.person_id = al.person_id)))")


def _alerts(conn: sqlite3.Connection, where: str, params: list[Any]) -> list[AlertRow]:
    sql = f"{_ALERT_SELECT} WHERE {where}) x ORDER BY x.created_at DESC, x.id DESC LIMIT 500"
    return [AlertRow(**dict(r)) for r in conn.execute(sql, params)]


def open_alerts(conn: sqlite3.Connection, user_id: int | None) -> dict[str, list[AlertRow]]:
    """Unhandled alerts the user may see, grouped for the dashboard (newest first): their own
    cases' alerts, and every risk alert."""
    where, params = "al.handled_at IS NULL" + _LIVE, []
    if user_id is not None:
        where, params = where + _MINE_OR_RISK, [user_id]
    groups: dict[str, list[AlertRow]] = {name: [] for name in (*ALERT_GROUPS, "other")}
    for a in _alerts(conn, where, params):
        group = next((g for g, kinds in ALERT_GROUPS.items() if a.kind in kinds), "other")
        groups[group].append(a)
    return groups


def alert(conn: sqlite3.Connection, alert_id: int) -> AlertRow | None:
    found = _alerts(conn, "al.id = ?", [alert_id])
    return found[0] if found else None


def case_alerts(conn: sqlite3.Connection, case_id: int, messages: bool) -> list[AlertRow]:
    """A case's risk alerts (resolved ones too) and, when `messages`, its waiting messages;
    oldest first."""
    kinds = "al.kind = 'risk'" + (" OR (al.kind = 'message' AND al.handled_at IS NULL)"
                                  if messages else "")
    found = _alerts(conn, f"({kinds}) AND {ALERT_CASE} = ?", [case_id])
    return sorted(found, key=lambda a: (a.created_at, a.id))


def open_risk(conn: sqlite3.Connection, case_id: int) -> list[int]:
    """The open risk alerts of a case: while there is one, anyone on duty may open it."""
    rows = conn.execute("SELECT al.id FROM alerts al WHERE al.kind = 'risk' AND"  # noqa: S608  # nosec B608
                        " al.handled_at IS NULL AND " + ALERT_CASE + " = ? ORDER BY al.id",
                        (case_id,))
    return [int(r["id"]) for r in rows]


def note_of(conn: sqlite3.Connection, alert_id: int) -> bytes | None:
    """A resolved risk alert's sealed note (bound to the alert: `sealed.ad`)."""
    row = conn.execute("SELECT note_enc FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return row["note_enc"] if row else None


def mark_seen(conn: sqlite3.Connection, alert_id: int, by: str, now: float) -> list[int]:
    """Mark an alert seen, with the same person's earlier unseen risk alerts (whoever looks at
    the newest has seen the rest); returns the ids marked. The first to mark one is kept."""
    rows = conn.execute(
        "UPDATE alerts SET seen_at = ?, seen_by = ? WHERE seen_at IS NULL AND (id = ? OR"
        " (kind = 'risk' AND person_id = (SELECT person_id FROM alerts WHERE id = ?)"
        " AND id < ? AND (SELECT kind FROM alerts WHERE id = ?) = 'risk')) RETURNING id",
        (now, by, alert_id, alert_id, alert_id, alert_id)).fetchall()
    return sorted(r["id"] for r in rows)


def handle_new_contact_alerts(conn: sqlite3.Connection, case_id: int, now: float,
                              by: str) -> list[int]:
    """The reply to a new contact was recorded: its 'reply needed' alerts are dealt with."""
    kinds = ",".join("?" * len(NEW_CONTACT_ALERTS))
    rows = conn.execute(
        f"UPDATE alerts AS al SET handled_at = ?, handled_by = ? WHERE handled_at IS NULL"  # noqa: S608  # nosec B608
        f" AND kind IN ({kinds}) AND {ALERT_CASE} = ? RETURNING id",
        (now, by, *NEW_CONTACT_ALERTS, case_id)).fetchall()
    return sorted(int(r["id"]) for r in rows)


def handle_alert(conn: sqlite3.Connection, alert_id: int, now: float, by: str) -> bool:
    """Mark an alert dealt with; False if it already was."""
    cur = conn.execute("UPDATE alerts SET handled_at = ?, handled_by = ? WHERE id = ?"
                       " AND handled_at IS NULL", (now, by, alert_id))
    return cur.rowcount == 1


def resolve_risk(conn: sqlite3.Connection, cipher: Cipher, alert_id: int, note: str, by: str,
                 now: float) -> bool:
    """Close a risk alert with the note of what was done (sealed to this alert's row)."""
    cur = conn.execute(
        "UPDATE alerts SET handled_at = ?, handled_by = ?, note_enc = ? WHERE id = ?"
        " AND kind = 'risk' AND handled_at IS NULL",
        (now, by, sealed.seal(cipher, note, "alerts", "note_enc", id=alert_id), alert_id))
    return cur.rowcount == 1


def reviews_due(conn: sqlite3.Connection, user_id: int | None, until: float) -> list[AlertRow]:
    """Outcome items whose review date has come (or comes before `until`)."""
    vis, params = _visible(user_id)
    sql = ("SELECT o.id, 'review' AS kind, c.person_id, c.id AS case_id,"
           " o.review_at AS created_at FROM outcome_items o JOIN cases c ON c.id = o.case_id"
           " WHERE o.done_at IS NULL AND o.review_at IS NOT NULL AND o.review_at <= ? AND ")
    rows = conn.execute(sql + vis + " ORDER BY o.review_at", [until, *params])
    return [AlertRow(**dict(r)) for r in rows]


# ---- records the console keeps ----


def add_meeting(conn: sqlite3.Connection, cipher: Cipher, case_id: int, kind: str, mode: str,
                at: float, place: str, by: str, now: float) -> int:
    row_id = sealed.next_id(conn, "meetings")
    place_enc = sealed.seal(cipher, place, "meetings", "place_enc", id=row_id,
                            case_id=case_id) if place else None
    conn.execute(
        "INSERT INTO meetings (id, case_id, kind, mode, at, place_enc, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, case_id, kind, mode, at, place_enc, by, now),
    )
    return row_id


def mark_meeting_held(conn: sqlite3.Connection, case_id: int, meeting_id: int,
                      now: float) -> str | None:
    """This appointment, once its time has come, now held; its kind (None if it is not this
    case's, was already held, or is still in the future)."""
    row = conn.execute("UPDATE meetings SET held_at = ? WHERE id = ? AND case_id = ? AND"
                       " held_at IS NULL AND missed_at IS NULL AND at <= ? RETURNING kind",
                       (now, meeting_id, case_id, now)).fetchone()
    return str(row["kind"]) if row else None


def other_party_version(conn: sqlite3.Connection, case_id: int) -> int:
    """The version of the case's other-party record (0: none saved yet)."""
    row = conn.execute("SELECT version FROM other_parties WHERE case_id = ?",
                       (case_id,)).fetchone()
    return int(row["version"]) if row else 0


def save_other_party(conn: sqlite3.Connection, cipher: Cipher, case_id: int,
                     details: dict[str, str], accepted: bool, risk_assessed: bool, by: str,
                     now: float, seen: int) -> int | None:
    """Save the record if it is still at version `seen` (what the form was read at); the new
    version, or None (nothing written) if someone saved another version since."""
    current = other_party_version(conn, case_id)
    if current != seen:
        return None
    data = sealed.seal(cipher, json.dumps(details, ensure_ascii=False), "other_parties",
                       "data_enc", case_id=case_id)
    conn.execute(
        "INSERT INTO other_parties (case_id, data_enc, accepted_responsibility, risk_assessed,"
        " updated_by, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id)"
        " DO UPDATE SET data_enc = excluded.data_enc, accepted_responsibility ="
        " excluded.accepted_responsibility, risk_assessed = excluded.risk_assessed,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at,"
        " version = excluded.version",
        (case_id, data, int(accepted), int(risk_assessed), by, now, current + 1),
    )
    return current + 1


def add_outcome_item(conn: sqlite3.Connection, cipher: Cipher, case_id: int,
                     item: dict[str, str], due_on: str, review_at: float | None, by: str,
                     now: float) -> int:
    """One SMART item of an outcome agreement: what, who, by when, how checked, review."""
    row_id = sealed.next_id(conn, "outcome_items")
    conn.execute(
        "INSERT INTO outcome_items (id, case_id, item_enc, due_on, review_at, created_by,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (row_id, case_id, sealed.seal(cipher, json.dumps(item, ensure_ascii=False),
                                      "outcome_items", "item_enc", id=row_id, case_id=case_id),
         due_on, review_at, by, now),
    )
    return row_id


def complete_outcome_item(conn: sqlite3.Connection, case_id: int, item_id: int,
                          now: float) -> bool:
    cur = conn.execute("UPDATE outcome_items SET done_at = ? WHERE id = ? AND case_id = ?"
                       " AND done_at IS NULL", (now, item_id, case_id))
    return cur.rowcount == 1


def cancel_review(conn: sqlite3.Connection, person_id: int, item_id: int, now: float) -> int:
    """Cancel the pending review reminder of a console outcome item (its job's `ref`)."""
    return conn.execute(
        "UPDATE jobs SET status = 'cancelled', done_at = ? WHERE person_id = ? AND"
        " kind = 'review_due' AND status = 'pending' AND json_extract(data, '$.ref') = ?",
        (now, person_id, item_id)).rowcount


def close_case(conn: sqlite3.Connection, case_id: int, now: float) -> None:
    """Mark the case closed once the conversation has been told (stage already 'closed')."""
    conn.execute("UPDATE cases SET closed_at = coalesce(closed_at, ?), updated_at = ?"
                 " WHERE id = ?", (now, now, case_id))
