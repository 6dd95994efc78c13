"""The meeting script in the console: a new version for either side, shared from the case page.

Every rule lives in bot.relay.script_desk (shared with `rjbot simulate`); each version and each
change the person asked for is shown on the case page (templates/case_script.html).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console import notices
from bot.console.auth import Visitor
from bot.console.case import access_or_error
from bot.console.pages import error, form_value, redirect, staff
from bot.relay import desk, script_desk
from bot.service import Service

DONE = {"victim": "script_shared", "other": "script_other_saved"}  # bot.console.notices


@staff
async def share(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    assert v.user is not None
    side = await form_value(request, "side")
    text = await form_value(request, "text", script_desk.MAX_SCRIPT + 1)
    try:
        await script_desk.share(service.runtime, service.cipher, case_id=got.case.id, text=text,
                                side=side, who=desk.Staff(v.actor, v.user.supervisor))
    except desk.LetterError as exc:
        return error(request, v, 409, f"That could not be done: {exc}.")
    return redirect(notices.url(f"/console/cases/{got.case.id}", DONE[side], "script"))
