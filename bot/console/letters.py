"""Letters in the console: the review queue's pages, approval, edits, typing in, printing.

Every rule lives in bot.relay.desk (shared with `rjbot simulate`); this module checks who may
see the case, shows the letter with its safety warnings and every version, and audits views.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import notices
from bot.console.auth import Visitor
from bot.console.case import access_or_error, check_access
from bot.console.pages import error, form_value, redirect, render, staff
from bot.relay import desk, gate
from bot.service import Service
from bot.store import letters, records

STATUS = {
    "pending_review": "Waiting for approval",
    "edit_proposed": "Waiting for the author to accept or reject a new wording",
    "approved": "Approved",
    "delivered": "Delivered to the other party",
    "read": "Read by the person harmed",
    "declined": "The person harmed chose not to read it",
    "withheld": "Withheld: the person withdrew",
    "held": "Held: nothing moves until the person harmed gives consent again",
    "cancelled": "Cancelled",
}
DIRECTION = {"to_other": "From the person harmed, to the other party",
             "to_victim": "From the other party, to the person harmed"}


VERSION_STATUS = {
    "draft": "Being written",
    "submitted": "Sent for review",
    "proposed": "Proposed to the author, waiting for their answer",
    "accepted": "Accepted by the author",
    "rejected": "Rejected by the author",
}


def version_status(letter: letters.Letter, number: int, status: str,
                   standing: int | None) -> str:
    """What a version is now, in words: the approved one says so (not "submitted")."""
    if letter.approved_version == number:
        return "Approved" + (f" by {letter.approved_by}" if letter.approved_by else "")
    if status in ("submitted", "accepted", "draft") and standing is not None and (
            number < standing):
        return f"Replaced by version {standing}"
    if status == "submitted" and letter.status == "pending_review":
        return "Waiting for approval"
    return VERSION_STATUS.get(status, status.replace("_", " ").capitalize())


def _who(v: Visitor) -> desk.Staff:
    assert v.user is not None
    return desk.Staff(v.actor, v.user.supervisor)


async def _load(request: Request, v: Visitor, action: str) -> dict[str, Any] | Response:
    """The letter, if the user may see its case; the view is audited."""
    service: Service = request.app.state.service
    letter_id = int(request.path_params["letter_id"])
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> dict[str, Any] | int:
        found = letters.get(conn, letter_id)
        if found is None or found.status == "draft" or found.case_id is None:
            return 404
        access = check_access(conn, v, found.case_id)
        if isinstance(access, int):
            return access
        records.audit(conn, v.actor, action, now, found.person_id, found.case_id,
                      {"letter": found.id})
        return {"letter": found, "case": access.case,
                "versions": letters.versions(conn, service.cipher, found.id),
                "standing": letters.current(conn, service.cipher, found.id),
                "findings": desk.findings(conn, service.cipher, found),
                "hold": gate.hold_of(conn, found.person_id)}

    got = await service.db.write(unit)
    if got == 404:
        return error(request, v, 404, "There is no such letter.")
    if isinstance(got, int):
        return error(request, v, 403, "This letter's case is not assigned to you.")
    return got


@staff
async def letter_page(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    got = await _load(request, v, "letter_viewed")
    if isinstance(got, Response):
        return got
    today = service.runtime.clock.now().astimezone(ZoneInfo(service.settings.timezone)).date()
    return render(request, v, "letter.html", status_names=STATUS, directions=DIRECTION,
                  version_status=version_status, today=today.isoformat(), **got)


@staff
async def print_page(request: Request, v: Visitor) -> Response:
    """A clean page with the approved wording only: no names, contact details or case data."""
    service: Service = request.app.state.service
    got = await _load(request, v, "letter_print_opened")
    if isinstance(got, Response):
        return got
    try:
        body = await desk.printable(service.runtime, service.cipher, got["letter"].id,
                                    _who(v))
    except desk.LetterError as exc:
        return error(request, v, 409, f"{exc}.")
    return render(request, v, "letter_print.html", body=body)


@staff
async def approve(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    letter_id = int(request.path_params["letter_id"])
    confirmed = await form_value(request, "confirm") == "yes"
    seen = await form_value(request, "version")
    version = int(seen) if seen.isdecimal() else 0  # no version read: nothing is approved
    work = desk.approve(service.runtime, service.cipher, letter_id, _who(v), confirmed,
                        version)
    return await _guarded(request, v, letter_id, "letter_approved", work)


async def _guarded(request: Request, v: Visitor, letter_id: int, notice: str,
                   work: Any, mine: dict[str, str] | None = None) -> Response:
    """Check access before running the work (a coroutine that is closed if access fails).
    New wording over a newer version is refused showing both, with `mine` kept in a form."""
    got = await _load(request, v, "letter_action")
    if isinstance(got, Response):
        work.close()
        return got
    try:
        await work
    except desk.StaleWording as exc:
        return render(request, v, "conflict_letter.html", status=409, letter=got["letter"],
                      theirs=exc.newest, mine=mine or {}, status_names=STATUS)
    except desk.LetterError as exc:
        return error(request, v, 409, f"That could not be done: {exc}.")
    return redirect(notices.url(f"/console/letters/{letter_id}", notice))


@staff
async def edit(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    letter_id = int(request.path_params["letter_id"])
    text = await form_value(request, "text", desk.MAX_LETTER + 1)
    reason = await form_value(request, "reason", desk.MAX_REASON + 1)
    seen = await form_value(request, "version", 12)
    version = int(seen) if seen.isdecimal() else 0  # no version read: it cannot be current
    work = desk.propose_edit(service.runtime, service.cipher, letter_id, text, reason,
                             _who(v), seen=version)
    return await _guarded(request, v, letter_id, "letter_reworded", work,
                          {"text": text, "reason": reason})


@staff
async def delivered(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    letter_id = int(request.path_params["letter_id"])
    on = await form_value(request, "on", 10)
    try:
        date.fromisoformat(on)
    except ValueError:
        return error(request, v, 400, "Give the date the letter was delivered.")
    work = desk.mark_delivered(service.runtime, letter_id, on, _who(v))
    return await _guarded(request, v, letter_id, "letter_delivered", work)


@staff
async def type_in(request: Request, v: Visitor) -> Response:
    """A letter from the other party, typed in or transcribed on the case page."""
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    text = await form_value(request, "text", desk.MAX_LETTER + 1)
    try:
        letter_id = await desk.type_in(service.runtime, service.cipher,
                                       person_id=got.case.person_id,
                                       case_id=got.case.id, text=text, who=_who(v))
    except desk.LetterError as exc:
        return error(request, v, 400, f"That could not be done: {exc}.")
    return redirect(notices.url(f"/console/letters/{letter_id}", "letter_typed_in"))
