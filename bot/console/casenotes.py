"""Case notes and the contact log on the case page: a call, a video call, a visit, a message
sent another way, or a note (bot.store.notes keeps them, sealed, and audits each).

A note may be added to a closed case too (the closing call is worth recording), never to a case
whose personal content was erased. A refused note is shown again with its text in the form.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console.actions import back, local_to_utc
from bot.console.auth import Visitor
from bot.console.case import access_or_error, show_case
from bot.console.pages import error, form_value, staff
from bot.service import Service
from bot.store import notes


@staff
async def add(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    got = await access_or_error(request, v, open_only=False)
    if isinstance(got, Response):
        return got
    if got.case.person_status == "erased":
        return error(request, v, 409, "This person's personal content was erased."
                                      " Nothing more can be recorded on this case.")
    now = service.runtime.clock.now()
    how = await form_value(request, "how", 20)
    fields = {k: await form_value(request, k, notes.LIMITS[k] + 1) for k in notes.LIMITS}
    when_raw = await form_value(request, "at", 30)
    when = local_to_utc(when_raw, service.settings.timezone) if when_raw else now
    try:
        if when is None:
            raise notes.NoteError("Give the date and time it happened, or leave it empty for now.")
        kept = notes.check(how, fields, to_ts(when), to_ts(now), got.case.created_at)
    except notes.NoteError as exc:
        return await _refused(request, v, got.case.id, str(exc), how, fields, when_raw)
    at = to_ts(when)

    def unit(conn: sqlite3.Connection) -> int:
        return notes.add(conn, service.cipher, got.case.id, how, kept, at, v.actor, to_ts(now))

    await service.db.write(unit)
    return back(got, "note_added", "conversation")


async def _refused(request: Request, v: Visitor, case_id: int, why: str, how: str,
                   fields: dict[str, str], when: str) -> Response:
    """The case page again, the reason at the form and what was typed kept in it."""
    typed = {"how": how, "at": when, **fields}
    return await show_case(request, v, case_id, status=400,
                           note={"error": why, "typed": typed})
