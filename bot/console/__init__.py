"""The facilitator web console, mounted under /console/ by bot.web."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.console import (
    actions,
    alerts,
    appointments,
    case,
    casenotes,
    dashboard,
    finding,
    letters,
    live,
    login,
    message,
    referrals,
    reopen,
    scripts,
    stats_page,
    supervision,
    team,
)
from bot.console.auth import Visitor
from bot.console.pages import HERE, error, staff

CASE = "/cases/{case_id:int}"
LETTER = "/letters/{letter_id:int}"


@staff
async def not_found(request: Request, v: Visitor) -> Response:
    """Unknown console paths: sign in first, so the console's shape is not shown to strangers."""
    return error(request, v, 404, "There is no such page.")


def routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/", dashboard.dashboard),
        Route("/login", login.login_page),
        Route("/login", login.login_submit, methods=post),
        Route("/login/code", login.code_page),
        Route("/login/code", login.code_submit, methods=post),
        Route("/logout", login.logout, methods=post),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="console-static"),
        Route("/referrals/new", referrals.form),
        Route("/search", finding.search_page),
        Route("/cases", finding.cases_page),
        Route("/audit", supervision.audit_page),
        Route("/stats", stats_page.stats_page),
        Route("/accounts", team.accounts_page),
        Route("/accounts/{facilitator_id:int}/disable", team.disable, methods=post),
        Route("/drafts/{draft_id:int}/discard", dashboard.discard_draft, methods=post),
        Route("/accounts/{facilitator_id:int}/second-factor", team.reset_second_factor,
              methods=post),
        Route("/referrals", referrals.submit, methods=post),
        Route("/alerts/{alert_id:int}/handled", dashboard.handle_alert, methods=post),
        Route("/alerts/{alert_id:int}/resolve", alerts.resolve, methods=post),
        Route("/alerts/{alert_id:int}/read", alerts.mark_read, methods=post),
        Route("/alerts/{alert_id:int}/seen", dashboard.mark_seen, methods=post),
        Route(CASE, case.case_page),
        Route(CASE + "/live", live.case_part),
        Route(CASE + "/live/events", live.case_events),
        Route("/live/dashboard", live.dashboard_part),
        Route("/live/dashboard/events", live.dashboard_events),
        Route(CASE + "/assign", dashboard.assign, methods=post),
        Route(CASE + "/replied", actions.replied, methods=post),
        Route(CASE + "/notes", casenotes.add, methods=post),
        Route(CASE + "/message/preview", message.preview, methods=post),
        Route(CASE + "/message", message.send, methods=post),
        Route(CASE + "/meetings", actions.schedule_meeting, methods=post),
        Route(CASE + "/meetings/held", actions.meeting_held, methods=post),
        Route(CASE + "/meetings/missed", appointments.missed, methods=post),
        Route(CASE + "/meetings/moved", appointments.moved, methods=post),
        Route(CASE + "/other-party", actions.other_party, methods=post),
        Route(CASE + "/outcomes", actions.outcome_item, methods=post),
        Route(CASE + "/outcomes/{item_id:int}/done", actions.outcome_done, methods=post),
        Route(CASE + "/checkins", actions.checkins, methods=post),
        Route(CASE + "/passphrase-reset", actions.passphrase_reset, methods=post),
        Route(CASE + "/close", actions.close, methods=post),
        Route(CASE + "/reopen", reopen.reopen, methods=post),
        Route(CASE + "/erase", supervision.erase, methods=post),
        Route(CASE + "/access-export", supervision.access_export, methods=post),
        Route(CASE + "/erasure-refused", supervision.refuse, methods=post),
        Route(CASE + "/letters", letters.type_in, methods=post),
        Route(CASE + "/script", scripts.share, methods=post),
        Route(LETTER, letters.letter_page),
        Route(LETTER + "/print", letters.print_page),
        Route(LETTER + "/approve", letters.approve, methods=post),
        Route(LETTER + "/edit", letters.edit, methods=post),
        Route(LETTER + "/delivered", letters.delivered, methods=post),
        Route("/{path:path}", not_found, methods=["GET", "POST"]),
    ]


def mount() -> Mount:
    return Mount("/console", routes=routes())
