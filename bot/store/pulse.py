"""What changed, cheaply: the numbers the console's live updates poll every second.

`probe` is a few indexed lookups over the whole database, the same for every user; only
when it moves is the user's own `fingerprint` (what they may see) computed. Neither reads
personal content. `urgent` is the count in the browser tab's title.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from bot.store.casework import _LIVE, _MINE_OR_RISK, ALERT_CASE, STOPPED, _visible

Probe = tuple[Any, ...]


def probe(conn: sqlite3.Connection) -> Probe:
    """Newest alert, message and case, and how many alerts are open (alerts_open index)."""
    row = conn.execute(
        "SELECT (SELECT max(id) FROM alerts), (SELECT count(*) FROM alerts"
        " WHERE handled_at IS NULL), (SELECT max(id) FROM messages),"
        " (SELECT max(id) FROM cases)").fetchone()
    return tuple(row)


def urgent(conn: sqlite3.Connection, user_id: int | None, now: float) -> int:
    """Urgent items for a user (None: a supervisor): the open risk alerts (every facilitator
    on duty sees all of them, as on the dashboard) and their new contacts whose 48-hour reply
    clock has run out."""
    risk = conn.execute("SELECT count(*) FROM alerts al WHERE al.kind = 'risk' AND"  # noqa: S608  # nosec B608
                        " al.handled_at IS NULL" + _LIVE).fetchone()[0]
    vis, params = _visible(user_id)
    overdue = conn.execute(
        "SELECT count(*) FROM cases c JOIN people p ON p.id = c.person_id"  # noqa: S608  # nosec B608
        f" WHERE c.closed_at IS NULL AND c.stage = 'new_contact' AND p.status NOT IN {STOPPED}"
        f" AND c.reply_due_at < ? AND {vis}", [now, *params]).fetchone()[0]
    return int(risk) + int(overdue)


def _alerts_seen(conn: sqlite3.Connection, user_id: int | None) -> tuple[Any, ...]:
    where, params = "al.handled_at IS NULL" + _LIVE, []
    if user_id is not None:
        where, params = where + _MINE_OR_RISK, [user_id]
    return tuple(conn.execute(
        f"SELECT count(*), max(al.id), total(al.id), max(al.created_at) FROM alerts al"  # noqa: S608  # nosec B608
        f" WHERE {where}", params).fetchone())


def dashboard(conn: sqlite3.Connection, user_id: int | None, now: float) -> tuple[Any, ...]:
    """The dashboard's state for this user: their open alerts, their open cases, urgent."""
    vis, params = _visible(user_id)
    cases = tuple(conn.execute(
        "SELECT count(*), max(c.id), max(c.updated_at) FROM cases c"  # noqa: S608  # nosec B608
        f" WHERE c.closed_at IS NULL AND {vis}", params).fetchone())
    return (*_alerts_seen(conn, user_id), *cases, urgent(conn, user_id, now))


def case(conn: sqlite3.Connection, case_id: int, person_id: int, user_id: int | None,
         now: float) -> tuple[Any, ...]:
    """A case page's state: the person's newest message (messages_person index), the case's
    alerts, its last change, and the user's urgent count."""
    row = conn.execute(
        "SELECT (SELECT max(id) FROM messages WHERE person_id = ?),"  # noqa: S608  # nosec B608
        " (SELECT updated_at FROM cases WHERE id = ?),"
        " (SELECT count(*) || ':' || total(al.id) || ':' || count(al.handled_at) FROM alerts al"
        "  WHERE al.person_id = ? OR " + ALERT_CASE + " = ?)",
        (person_id, case_id, person_id, case_id)).fetchone()
    return (*tuple(row), urgent(conn, user_id, now))


def newer_than(conn: sqlite3.Connection, user_id: int | None, person_id: int | None,
               since: float) -> bool:
    """Whether an open alert this user may see (or, for a case, a message of its person) came
    in after `since`: what a page rendered at `since` does not show yet."""
    if float(_alerts_seen(conn, user_id)[3] or 0.0) > since:
        return True
    if person_id is None:
        return False
    row = conn.execute("SELECT max(created_at) FROM messages WHERE person_id = ?",
                       (person_id,)).fetchone()
    return float(row[0] or 0.0) > since


def token(state: tuple[Any, ...]) -> str:
    """A short stand-in for a state, to compare (carries none of the numbers)."""
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]
