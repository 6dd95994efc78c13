"""Rendering and guarding console pages: Jinja2 (autoescaped), sessions, CSRF, headers."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.clock import to_ts
from bot.console import drafts, labels, notices, risk
from bot.console.auth import Visitor, set_cookie, visitor
from bot.i18n import language_name
from bot.service import Service
from bot.store import pulse

HERE = Path(__file__).resolve().parent
LOGIN = "/console/login"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[Request, Visitor], Awaitable[Response]]


def _local(ts: float | None, tz: str) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def countdown(due: float | None, now: float) -> str:
    """The 48-hour clock in words: time left, or how long overdue."""
    if due is None:
        return ""
    left = int(due - now)
    hours, minutes = divmod(abs(left) // 60, 60)
    span = f"{hours} h {minutes:02d} min"
    return f"{span} left" if left >= 0 else f"overdue by {span}"


ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["words"] = labels.words
ENV.globals.update(answer=labels.answer, answer_key=labels.answer_key, scopes=labels.SCOPES)
ENV.globals.update(countdown=countdown, ago=risk.ago, language=language_name,
                   risk_category=risk.category, risk_warnings=risk.warnings,
                   safe_answers=risk.safe_answers)


def render(request: Request, v: Visitor | None, template: str, status: int = 200,
           **context: Any) -> HTMLResponse:
    service: Service = request.app.state.service
    tz = service.settings.timezone
    now = to_ts(service.runtime.clock.now())
    context.setdefault("notice", notices.shown(request))
    context.setdefault("notice_at", notices.section(request))
    context.setdefault("urgent", getattr(request.state, "urgent", 0))
    html = ENV.get_template(template).render(
        user=v.user if v else None, csrf=v.csrf if v else "", now=now,
        local=lambda ts: _local(ts, tz), tz=tz, path=request.url.path, **context,
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    if v is not None:
        set_cookie(request, response, v)
    return response


def error(request: Request, v: Visitor | None, status: int, message: str,
          back: str = "") -> HTMLResponse:
    """A refusal with its reason; `back` (a console path) is where to go to try again."""
    back = back if back.startswith("/console/") else ""
    return render(request, v, "error.html", status=status, message=message, back=back)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def staff(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Signed-in staff only; every POST must carry the session's CSRF token."""
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        v = await visitor(request)
        if v.user is None:
            if request.method != "POST":
                return redirect(LOGIN)
            if (kept := await drafts.keep(request, v.token)) is not None:
                return render(request, None, "session_ended.html", status=401, case_id=kept)
            return error(request, v, 403, "Your session has ended. Please sign in again.")
        await count_urgent(request, v)
        if request.method == "POST":
            if not v.csrf_ok(await form_value(request, "csrf")):
                return error(request, v, 403,
                             "This form has expired. Go back, reload and try again.")
            await drafts.dropped_on_save(request, v.user.id)
        return await handler(request, v)

    return endpoint


async def count_urgent(request: Request, v: Visitor) -> None:
    """The signed-in user's urgent items (bot.store.pulse.urgent), for the tab's title."""
    service: Service = request.app.state.service
    assert v.user is not None
    scope = None if v.user.supervisor else v.user.id
    now = to_ts(service.runtime.clock.now())
    request.state.urgent = await service.db.read(lambda c: pulse.urgent(c, scope, now))


async def form_value(request: Request, name: str, limit: int = 2000) -> str:
    form = await request.form()
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""
