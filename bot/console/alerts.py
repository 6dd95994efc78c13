"""Acting on a case's alerts: a waiting message is marked read; a risk alert is resolved with a
short note of what was done (sealed, shown on the case page, never in the audit log)."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import notices
from bot.console.auth import Visitor
from bot.console.case import check_access, denied, show_case
from bot.console.dashboard import show_dashboard
from bot.console.pages import error, form_value, redirect, staff
from bot.service import Service
from bot.store import casework, records

NOTE_MAX = 500


def note_problem(note: str) -> str:
    """Why a note cannot resolve a risk alert, or '' when it can."""
    if not note:
        return ("Write a short note of what was done before marking this risk alert handled"
                f" (up to {NOTE_MAX} characters).")
    if len(note) > NOTE_MAX:
        return f"The note has {len(note)} characters. Keep it to {NOTE_MAX} or fewer."
    return ""


async def _back(request: Request, v: Visitor, case_id: int | None, notice: str,
                anchor: str) -> Response:
    """To the case page if this user may still open it, else to the dashboard."""
    service: Service = request.app.state.service
    if case_id is not None:
        got = await service.db.read(lambda c: check_access(c, v, case_id, risk_ok=True))
        if not isinstance(got, int):
            return redirect(notices.url(f"/console/cases/{case_id}", notice, anchor))
    return redirect(notices.url("/console/", notice))


@staff
async def mark_read(request: Request, v: Visitor) -> Response:
    """A waiting message has been read by someone on the case: it leaves the inbox."""
    service: Service = request.app.state.service
    assert v.user is not None
    alert_id = int(request.path_params["alert_id"])
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> tuple[str, int | None]:
        found = casework.alert(conn, alert_id)
        if found is None or found.kind != "message":
            return "missing", None
        allowed = (v.user is not None and v.user.supervisor) if found.case_id is None else (
            not isinstance(check_access(conn, v, found.case_id), int))
        if not allowed:
            return "forbidden", found.case_id
        if casework.handle_alert(conn, alert_id, now, v.actor):
            records.audit(conn, v.actor, "message_read", now, found.person_id, found.case_id,
                          {"alert": alert_id})
        return "", found.case_id

    refused, case_id = await service.db.write(unit)
    if refused == "missing":
        return error(request, v, 404, "There is no such waiting message.")
    if refused:
        return await denied(request, v, 403, case_id, {"alert": alert_id})
    return await _back(request, v, case_id, "message_read", "waiting")


@staff
async def resolve(request: Request, v: Visitor) -> Response:
    """Close a risk alert with a note; a missing or long note comes back to its form."""
    service: Service = request.app.state.service
    alert_id = int(request.path_params["alert_id"])
    note = await form_value(request, "note", 4 * NOTE_MAX)
    on_case = await form_value(request, "back") == "case"
    found = await service.db.read(lambda c: casework.alert(c, alert_id))
    if found is None or found.kind != "risk":
        return error(request, v, 404, "There is no such risk alert.")
    if found.handled_at is not None:
        return await _back(request, v, found.case_id if on_case else None,
                           "risk_already_resolved", "risk")
    if problem := note_problem(note):
        if on_case and found.case_id is not None:
            return await show_case(request, v, found.case_id, 400, {alert_id: problem},
                                   {alert_id: note})
        return await show_dashboard(request, v, 400, {alert_id: problem}, {alert_id: note})
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> bool:
        done = casework.resolve_risk(conn, service.cipher, alert_id, note, v.actor, now)
        if done:
            records.audit(conn, v.actor, "risk_resolved", now, found.person_id, found.case_id,
                          {"alert": alert_id, "note_length": len(note)})
        return done

    done = await service.db.write(unit)
    notice = "risk_resolved" if done else "risk_already_resolved"
    return await _back(request, v, found.case_id if on_case else None, notice, "risk")
