"""The dashboard: what needs a person now, and (for supervisors) who works on which case."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import drafts, notices
from bot.console.auth import Visitor
from bot.console.pages import error, form_value, redirect, render, staff
from bot.service import Service
from bot.store import casework, facilitators, letters, records

REVIEW_AHEAD = 7 * 86400.0  # reviews due within a week are shown

ALERT_TITLES = {
    "risk": "Risk alerts",
    "messages": "Messages waiting",
    "letters": "Letters awaiting review",
    "withdrawals": "Withdrawals",
    "checkins": "Check-ins with low scores",
    "other": "Other alerts",
}


@staff
async def dashboard(request: Request, v: Visitor) -> Response:
    """The dashboard; just after signing in with a form kept from an ended session, that
    form's case instead (once)."""
    service: Service = request.app.state.service
    assert v.user is not None
    user_id, now = v.user.id, to_ts(service.runtime.clock.now())
    case_id = await service.db.write(lambda c: drafts.offer(c, service.cipher, user_id, now))
    if case_id is not None:
        return redirect(f"/console/cases/{case_id}#resume")
    return await show_dashboard(request, v)


async def show_dashboard(request: Request, v: Visitor, status: int = 200,
                         problems: dict[int, str] | None = None,
                         drafts: dict[int, str] | None = None) -> Response:
    """The queues; `problems` and `drafts` (by alert id) put a refused note back in its form."""
    service: Service = request.app.state.service
    assert v.user is not None
    scope = None if v.user.supervisor else v.user.id
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> dict[str, Any]:
        return {
            "new_contacts": casework.new_contacts(conn, scope),
            "alerts": casework.open_alerts(conn, scope),
            "letter_queue": letters.queue(conn, scope),
            "reviews": casework.reviews_due(conn, scope, now + REVIEW_AHEAD),
            "cases": casework.open_cases(conn, scope),
            "unassigned": casework.unassigned(conn) if scope is None else [],
            "staff": facilitators.all_active(conn) if scope is None else [],
        }

    data = await service.db.read(unit)
    return render(request, v, "dashboard.html", status=status, alert_titles=ALERT_TITLES,
                  problems=problems or {},
                  drafts=drafts or {}, **data)


@staff
async def assign(request: Request, v: Visitor) -> Response:
    """Supervisors only: set (or change) the two facilitators of a case."""
    service: Service = request.app.state.service
    assert v.user is not None
    if not v.user.supervisor:
        return error(request, v, 403, "Only supervisors assign cases.")
    case_id = int(request.path_params["case_id"])
    chosen = [await form_value(request, "first"), await form_value(request, "second")]
    ids = [int(x) for x in chosen if x.isdecimal()]
    if len(set(ids)) < len(ids):
        return error(request, v, 400, "The first and second facilitator must be two different"
                                      " people. Choose someone else, or Nobody, as second.",
                     f"/console/cases/{case_id}#h-assign")
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> bool:
        found = casework.case(conn, case_id)
        if found is None:
            return False
        facilitators.assign(conn, case_id, ids, v.actor, now)
        records.audit(conn, v.actor, "case_assigned", now, found.person_id, case_id,
                      {"facilitators": sorted(set(ids))})
        return True

    try:
        ok = await service.db.write(unit)
    except ValueError as exc:
        return error(request, v, 400, str(exc))
    if not ok:
        return error(request, v, 404, "There is no such case.")
    back = await form_value(request, "back")
    return redirect(back if back.startswith("/console/") else f"/console/cases/{case_id}")


# kinds closed by their own action: a risk alert needs a note, a message must be read
OWN_ACTION = {"risk": "A risk alert is resolved with a note saying what was done.",
              "message": "Open the case to read the message, then mark it read."}


def _visible_alert(conn: sqlite3.Connection, v: Visitor, alert_id: int
                   ) -> casework.AlertRow | None:
    """The alert if it is open and on this user's dashboard (their cases, or a supervisor)."""
    assert v.user is not None
    scope = None if v.user.supervisor else v.user.id
    found = casework.alert(conn, alert_id)
    visible = casework.open_alerts(conn, scope)
    if found is None or not any(a.id == alert_id for g in visible.values() for a in g):
        return None
    return found


@staff
async def handle_alert(request: Request, v: Visitor) -> Response:
    """Mark an alert as dealt with (it stays in the audit log)."""
    service: Service = request.app.state.service
    alert_id = int(request.path_params["alert_id"])
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> str:
        """'' once handled; else the kind needing its own action, or 'forbidden'."""
        found = _visible_alert(conn, v, alert_id)
        if found is None:
            return "forbidden"
        if found.kind in OWN_ACTION:
            return found.kind
        casework.handle_alert(conn, alert_id, now, v.actor)
        records.audit(conn, v.actor, "alert_handled", now, found.person_id, found.case_id,
                      {"alert": alert_id, "kind": found.kind})
        return ""

    refused = await service.db.write(unit)
    if refused in OWN_ACTION:
        return error(request, v, 409, OWN_ACTION[refused])
    if refused:
        return error(request, v, 403, "You cannot close that alert.")
    return redirect("/console/")


@staff
async def mark_seen(request: Request, v: Visitor) -> Response:
    """Somebody has the risk alert in hand: the supervisors need not be called in."""
    service: Service = request.app.state.service
    alert_id = int(request.path_params["alert_id"])
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> bool:
        found = _visible_alert(conn, v, alert_id)
        if found is None:
            return False
        marked = casework.mark_seen(conn, alert_id, v.actor, now)
        if marked:
            records.audit(conn, v.actor, "alert_seen", now, found.person_id, found.case_id,
                          {"alert": alert_id, "kind": found.kind, "alerts": marked})
        return True

    if not await service.db.write(unit):
        return error(request, v, 403, "You cannot see that alert.")
    return redirect("/console/")


@staff
async def discard_draft(request: Request, v: Visitor) -> Response:
    """The user does not want the form kept from their ended session."""
    service: Service = request.app.state.service
    assert v.user is not None
    user_id, draft_id = v.user.id, int(request.path_params["draft_id"])
    await service.db.write(lambda c: drafts.drop(c, user_id, draft_id))
    case = await form_value(request, "case", 12)
    path = f"/console/cases/{case}" if case.isdecimal() else "/console/"
    return redirect(notices.url(path, "draft_discarded"))
