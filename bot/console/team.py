"""The supervisors' Accounts page: every account; disabling a leaver's, resetting a
colleague's second factor (sign-in code).

Disabling ends every session of the account at once and blocks its sign-in; the account's
history stays (audit rows name it). `rjbot facilitator add` with the same email enables it
again with a new password. Only supervisors reach this page; a supervisor cannot disable
their own account here (someone must stay able to sign in).
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import notices, signin
from bot.console.auth import Visitor
from bot.console.pages import error, form_value, redirect, render, staff
from bot.console.supervision import not_supervisor
from bot.service import Service
from bot.store import facilitators, records


@staff
async def accounts_page(request: Request, v: Visitor) -> Response:
    if (denied := await not_supervisor(request, v, "accounts")) is not None:
        return denied
    service: Service = request.app.state.service
    everyone = await service.db.read(facilitators.everyone)
    return render(request, v, "accounts.html", accounts=everyone,
                  done=notices.shown(request))


@staff
async def disable(request: Request, v: Visitor) -> Response:
    if (denied := await not_supervisor(request, v, "accounts")) is not None:
        return denied
    assert v.user is not None
    target = int(request.path_params["facilitator_id"])
    if target == v.user.id:
        return error(request, v, 400, "You cannot disable your own account.")
    if await form_value(request, "confirm") != "yes":
        return error(request, v, 400, "Tick the box to confirm. Nothing was changed.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> bool:
        found = facilitators.get(conn, target)
        if found is None or not found.active:
            return False
        facilitators.disable(conn, target)
        records.audit(conn, v.actor, "facilitator_disabled", now,
                      detail={"facilitator": target, "via": "console"})
        return True

    if not await service.db.write(unit):
        return error(request, v, 404, "There is no such active account.")
    return redirect(notices.url("/console/accounts", "account_disabled"))


@staff
async def reset_second_factor(request: Request, v: Visitor) -> Response:
    """A colleague lost their phone and recovery codes: a new secret, enrolled at their next
    sign-in (after their password); their sessions end now. Audited."""
    if (denied := await not_supervisor(request, v, "accounts")) is not None:
        return denied
    assert v.user is not None
    target = int(request.path_params["facilitator_id"])
    if target == v.user.id:
        return error(request, v, 400, "Ask another supervisor to reset your own sign-in code.")
    if await form_value(request, "confirm") != "yes":
        return error(request, v, 400, "Tick the box to confirm. Nothing was changed.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> bool:
        found = facilitators.get(conn, target)
        if found is None or not found.active:
            return False
        signin.new_secret_for(service, conn, target)
        records.audit(conn, v.actor, "second_factor_reset", now,
                      detail={"facilitator": target})
        return True

    if not await service.db.write(unit):
        return error(request, v, 404, "There is no such active account.")
    return redirect(notices.url("/console/accounts", "second_factor_reset"))
