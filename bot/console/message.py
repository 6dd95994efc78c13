"""A facilitator's message to the person: shown first (with its SMS size), then sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import back
from bot.console.auth import Visitor
from bot.console.case import Access, access_or_error
from bot.console.pages import error, form_value, render, staff
from bot.console.sms import MAX_SEGMENTS, sms_size, telling_words

MAX_TEXT = 1000


def _blocked(access: Access) -> str:
    """Why nothing can be sent to this person now, or '' when a message may go."""
    if access.case.opted_out:
        return "This person has opted out of messages. Nothing can be sent."
    if access.case.person_status == "erased":
        return "This person's personal content was erased. Nothing can be sent."
    if access.case.person_status == "withdrawn":
        return "This person has withdrawn. Nothing can be sent."
    if not access.case.channel:
        return "This person has no address to message."
    return ""


def _problems(access: Access, text: str) -> list[str]:
    problems = [p for p in (_blocked(access),) if p]
    if not text:
        problems.append("Write the message first.")
    if access.case.channel == "sms" and sms_size(text).segments > MAX_SEGMENTS:
        problems.append(f"This is longer than {MAX_SEGMENTS} text messages. Shorten it.")
    return problems


@staff
async def preview(request: Request, v: Visitor) -> Response:
    """Show exactly what will be sent, how many SMS it takes, and any telling words."""
    got = await access_or_error(request, v, risk_ok=True)
    if isinstance(got, Response):
        return got
    text = await form_value(request, "text", MAX_TEXT)
    return render(request, v, "message.html", case=got.case, text=text, size=sms_size(text),
                  problems=_problems(got, text), telling=telling_words(text),
                  paused=got.case.person_status == "paused")


@staff
async def send(request: Request, v: Visitor) -> Response:
    """Queue it; anyone on duty may, while the case has an open risk alert."""
    got = await access_or_error(request, v, risk_ok=True)
    if isinstance(got, Response):
        return got
    text = await form_value(request, "text", MAX_TEXT)
    problems = _problems(got, text)
    if problems:
        return error(request, v, 400, " ".join(problems))
    await request.app.state.service.runtime.act(
        got.case.person_id, "send_message", {"text": text}, v.actor)
    return back(got, "message_queued", "timeline")
