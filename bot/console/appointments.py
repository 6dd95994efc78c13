"""One appointment did not happen, or moved: each first conversation and meeting on its own.

Each form names its appointment (`meeting`) and carries the time it was read at (`was`, its
version): an appointment moved since the page was read is not changed (409). Nothing is
recorded on a closed or erased case, nor for a person who withdrew. The conversation is told
through `runtime.act` when the appointment is the one it follows (the newest of its kind), in
the same transaction as the console's record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import from_ts, iso, to_ts
from bot.console.actions import NothingToDo, _act, _now, back, local_to_utc
from bot.console.auth import Visitor
from bot.console.case import Access, access_or_error
from bot.console.pages import _local as local_time
from bot.console.pages import error, form_value, staff
from bot.service import Service
from bot.store import appointments, records
from bot.store.appointments import Appointment

MAX_REASON = 300
WHAT = {"first_conversation": "first conversation", "meeting": "meeting"}


async def _appointment(request: Request, v: Visitor) -> tuple[Access, Appointment,
                                                                float] | Response:
    """The case, the appointment the form names, and the time the form read it at."""
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    back_to = f"/console/cases/{got.case.id}#meetings"
    if got.case.person_status == "withdrawn":
        return error(request, v, 409, "This person has withdrawn. Nothing more is arranged"
                     " with them.", back_to)
    raw, was_raw = await form_value(request, "meeting", 12), await form_value(request, "was", 20)
    meeting_id = int(raw) if raw.isdecimal() else 0
    found = await request.app.state.service.db.read(
        lambda c: appointments.find(c, got.case.id, meeting_id))
    try:
        was = float(was_raw)
    except ValueError:
        was = -1.0
    if found is None:
        return error(request, v, 400, "There is no such appointment on this case.", back_to)
    if found.recorded:
        return error(request, v, 400, f"This {WHAT[found.kind]} was already recorded as"
                     f" {'held' if found.held_at else 'not having happened'}.", back_to)
    if abs(found.at - was) >= 1:
        return error(request, v, 409, f"This {WHAT[found.kind]} was moved since the page was"
                     f" opened: it is now on {_local(request, found.at)}. Nothing was changed;"
                     " look at it again.", back_to)
    return got, found, was


def _local(request: Request, ts: float) -> str:
    service: Service = request.app.state.service
    return local_time(ts, service.settings.timezone)


@staff
async def missed(request: Request, v: Visitor) -> Response:
    """It did not happen: recorded (with an optional reason, sealed), its own reminder
    cancelled; the stage stays and no check-ins start. Only once its time has come."""
    service: Service = request.app.state.service
    found = await _appointment(request, v)
    if isinstance(found, Response):
        return found
    got, appt, was = found
    reason = await form_value(request, "reason", MAX_REASON)
    now = _now(request)
    ts = to_ts(now)
    if appt.at > ts:
        return error(request, v, 400, f"This {WHAT[appt.kind]} is still to come: it can be"
                     " recorded as not having happened only after its time.",
                     f"/console/cases/{got.case.id}#meetings")

    def unit(conn: sqlite3.Connection) -> None:
        if not appointments.record_missed(conn, service.cipher, got.case.id, appt.id, was,
                                          reason, ts):
            raise NothingToDo("That appointment was already recorded.")
        records.audit(conn, v.actor, "meeting_missed", ts, got.case.person_id, got.case.id,
                      {"meeting": appt.id, "kind": appt.kind, "reason_given": bool(reason)})

    if appt.latest:
        refused = await _act(request, v, got, "meeting_missed",
                             {"kind": appt.kind, "was": iso(from_ts(appt.at))}, unit)
    else:  # an older booking of its kind: the conversation follows a newer one
        refused = await _write(request, v, unit)
    if refused is not None:
        return refused
    return back(got, "appointment_missed", "meetings")


@staff
async def moved(request: Request, v: Visitor) -> Response:
    """To a new future time: the person is told in their safe time and its own reminder
    follows the new time; the other appointments' reminders stay."""
    service: Service = request.app.state.service
    found = await _appointment(request, v)
    if isinstance(found, Response):
        return found
    got, appt, was = found
    at = local_to_utc(await form_value(request, "at"), service.settings.timezone)
    now = _now(request)
    back_to = f"/console/cases/{got.case.id}#meetings"
    if at is None:
        return error(request, v, 400, "Give the new date and time.", back_to)
    if at <= now:
        return error(request, v, 400, "That time has already passed. Give a time to come.",
                     back_to)
    if not appt.latest:
        return error(request, v, 400, f"A newer {WHAT[appt.kind]} is booked on this case:"
                     " move that one instead.", back_to)
    ts = to_ts(now)

    def unit(conn: sqlite3.Connection) -> None:
        if not appointments.record_moved(conn, got.case.id, appt.id, was, to_ts(at), ts):
            raise NothingToDo("That appointment was recorded or moved meanwhile.")
        records.audit(conn, v.actor, "meeting_moved", ts, got.case.person_id, got.case.id,
                      {"meeting": appt.id, "kind": appt.kind})

    if (refused := await _act(request, v, got, "meeting_moved",
                              {"kind": appt.kind, "was": iso(from_ts(appt.at)),
                               "at": iso(at)}, unit)) is not None:
        return refused
    return back(got, "appointment_moved", "meetings")


async def _write(request: Request, v: Visitor,
                 unit: Callable[[sqlite3.Connection], None]) -> Response | None:
    service: Service = request.app.state.service
    try:
        await service.db.write(unit)
    except NothingToDo as exc:
        return error(request, v, 400, str(exc))
    return None
