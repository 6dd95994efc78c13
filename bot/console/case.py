"""The case page: who may see a case, and the case itself (every view is audited)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console.auth import Visitor
from bot.console.pages import error, render, staff
from bot.flows import passphrase
from bot.scheduler.windows import WINDOWS
from bot.service import Service
from bot.store import casefile, casework, facilitators, letters, records
from bot.store.casefile import CaseFile
from bot.store.casework import CaseRow
from bot.store.facilitators import Facilitator

SHOWN_ANSWERS = {
    "name": "Name to use",
    "safe_times": "Safe times to message",
    "voicemail": "Voicemail allowed",
    "first_conversation": "First conversation by",
    "place": "Place chosen",
    "area": "Area",
    "discreet": "Discreet messages",
}

CLOSE_REASONS = {
    "completed": "Completed",
    "withdrew": "The person withdrew",
    "not_eligible": "Not eligible",
    "no_contact": "Could not make contact",
    "referred_on": "Referred to another service",
    "other": "Other",
}


@dataclass(frozen=True)
class Access:
    case: CaseRow
    assigned: list[Facilitator]


def may_see(user: Facilitator, assigned: list[Facilitator]) -> bool:
    return user.supervisor or any(f.id == user.id for f in assigned)


def check_access(conn: sqlite3.Connection, v: Visitor, case_id: int) -> Access | int:
    """The case and its facilitators if this user may work on it; else 404 or 403."""
    assert v.user is not None
    found = casework.case(conn, case_id)
    if found is None:
        return 404
    assigned = facilitators.assigned(conn, case_id)
    if not may_see(v.user, assigned):
        return 403
    return Access(found, assigned)


async def access_or_error(request: Request, v: Visitor, *, open_only: bool = True
                          ) -> Access | Response:
    """For actions: the case if this user may act on it, else an error page (403 audited)."""
    service: Service = request.app.state.service
    case_id = int(request.path_params["case_id"])
    got = await service.db.read(lambda c: check_access(c, v, case_id))
    if isinstance(got, int):
        return await _denied(request, v, got, case_id)
    if open_only and got.case.person_status == "erased":
        return error(request, v, 409, "This person's personal content was erased."
                                      " Nothing more can be recorded or sent on this case.")
    if open_only and got.case.closed_at is not None:
        return error(request, v, 409, "This case is closed.")
    return got


async def _denied(request: Request, v: Visitor, status: int, case_id: int) -> Response:
    if status == 404:
        return error(request, v, 404, "There is no such case.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    await service.db.write(
        lambda c: records.audit(c, v.actor, "case_access_denied", now, None, case_id))
    return error(request, v, 403, "This case is not assigned to you.")


@staff
async def case_page(request: Request, v: Visitor) -> Response:
    """Decrypt and show one case; the view itself goes into the audit log."""
    service: Service = request.app.state.service
    case_id = int(request.path_params["case_id"])
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> tuple[Access, CaseFile, list[Facilitator],
                                                list[letters.QueueRow]] | int:
        got = check_access(conn, v, case_id)
        if isinstance(got, int):
            return got
        cf = casefile.load(conn, service.cipher, case_id)
        assert cf is not None
        records.audit(conn, v.actor, "case_viewed", now, got.case.person_id, case_id)
        return got, cf, facilitators.all_active(conn), letters.for_case(conn, case_id)

    result = await service.db.write(unit)
    if isinstance(result, int):
        return await _denied(request, v, result, case_id)
    access, cf, staff_list, case_letters = result
    others = {k: val for k, val in cf.answers.items()
              if k not in SHOWN_ANSWERS and k not in passphrase.HIDDEN}
    return render(request, v, "case.html", case=access.case, assigned=access.assigned,
                  cf=cf, shown_answers=SHOWN_ANSWERS, other_answers=others,
                  staff=staff_list, windows=WINDOWS, close_reasons=CLOSE_REASONS,
                  case_letters=case_letters, notice=request.query_params.get("done", ""),
                  secret_word=passphrase.status(cf.answers, service.runtime.clock.now()))
