"""Reopening a closed case (POST /console/cases/N/reopen; `::act reopen` in simulation).

Who: a supervisor or a facilitator assigned to the case (as for closing it). Refused for an
erased person, a case that is not closed, and while the same person has another open case
(work on that one: a person has one open case at a time).

What it means: the case is open again at the stage "reopened". Nothing restarts by itself:
no 48-hour reply clock, no new-contact alert, no reminders, nothing sent to the person (the
facilitator contacts them and books what is needed); the feedback survey asked for at
closure is no longer sent. The reason it was closed stays on the record. Audited
(`case_reopened`, with who), in the same transaction as the change.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response

from bot.apply import open_case_id
from bot.clock import to_ts
from bot.console.actions import NothingToDo, _act, back
from bot.console.auth import Visitor
from bot.console.case import access_or_error
from bot.console.pages import error, staff
from bot.service import Service


@staff
async def reopen(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    got = await access_or_error(request, v, open_only=False)
    if isinstance(got, Response):
        return got
    case = got.case
    if case.person_status == "erased":
        return error(request, v, 409, "This person's personal content was erased. An erased"
                                      " case cannot be reopened.")
    if case.closed_at is None:
        return error(request, v, 409, "This case is not closed.")
    other = await service.db.read(lambda c: open_case_id(c, case.person_id))
    if other is not None:
        return error(request, v, 409, f"This person has another open case (case {other}):"
                                      " work on that one.", back=f"/console/cases/{other}")
    ts = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> None:
        # before the step, so the engine's case update lands on this case (the open one)
        changed = conn.execute("UPDATE cases SET closed_at = NULL, updated_at = ? WHERE id = ?"
                               " AND closed_at IS NOT NULL", (ts, case.id)).rowcount
        if not changed:
            raise NothingToDo("This case was reopened meanwhile.")

    if (refused := await _act(request, v, got, "reopen", {}, unit)) is not None:
        return refused
    return back(got, "reopened")
