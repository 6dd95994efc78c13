"""The case page: who may see a case, and the case itself (every view is audited)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import drafts as kept_forms
from bot.console.auth import Visitor
from bot.console.labels import HOW_LABELS, WORKING
from bot.console.pages import error, render, staff
from bot.flows import passphrase
from bot.relay import view as relay_view
from bot.relay.view import CaseRelay
from bot.scheduler.windows import WINDOWS
from bot.service import Service
from bot.store import casefile, casework, facilitators, letters, records
from bot.store.casefile import CaseAlert, CaseFile
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
    # not assigned: open only because a risk alert is open (every facilitator on duty may
    # respond); the page then shows what a response needs, not the whole case
    for_risk: bool = False


def may_see(user: Facilitator, assigned: list[Facilitator]) -> bool:
    return user.supervisor or any(f.id == user.id for f in assigned)


def check_access(conn: sqlite3.Connection, v: Visitor, case_id: int,
                 risk_ok: bool = False) -> Access | int:
    """The case and its facilitators if this user may work on it (or, with `risk_ok`, respond
    to its open risk alert); else 404 or 403."""
    assert v.user is not None
    found = casework.case(conn, case_id)
    if found is None:
        return 404
    assigned = facilitators.assigned(conn, case_id)
    if may_see(v.user, assigned):
        return Access(found, assigned)
    if risk_ok and casework.open_risk(conn, case_id):
        return Access(found, assigned, for_risk=True)
    return 403


async def access_or_error(request: Request, v: Visitor, *, open_only: bool = True,
                          risk_ok: bool = False) -> Access | Response:
    """For actions: the case if this user may act on it, else an error page (403 audited)."""
    service: Service = request.app.state.service
    case_id = int(request.path_params["case_id"])
    got = await service.db.read(lambda c: check_access(c, v, case_id, risk_ok))
    if isinstance(got, int):
        return await denied(request, v, got, case_id)
    if open_only and got.case.person_status == "erased":
        return error(request, v, 409, "This person's personal content was erased."
                                      " Nothing more can be recorded or sent on this case.")
    if open_only and got.case.closed_at is not None:
        return error(request, v, 409, "This case is closed.")
    return got


async def denied(request: Request, v: Visitor, status: int, case_id: int | None,
                 detail: dict[str, object] | None = None) -> Response:
    if status == 404:
        return error(request, v, 404, "There is no such case.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    await service.db.write(
        lambda c: records.audit(c, v.actor, "case_access_denied", now, None, case_id, detail))
    return error(request, v, 403, "This case is not assigned to you.")


@dataclass(frozen=True)
class Shown:
    access: Access
    cf: CaseFile
    alerts: list[CaseAlert]
    staff: list[Facilitator]
    case_letters: list[letters.QueueRow]
    relay: CaseRelay | None = None  # letters' hold and the meeting script (bot.relay.view)
    kept: kept_forms.Draft | None = None  # a form kept when this user's session ended


def _view(conn: sqlite3.Connection, service: Service, v: Visitor, case_id: int,
          now: float) -> Shown | int:
    """Everything the case page shows, read and audited in one transaction."""
    got = check_access(conn, v, case_id, risk_ok=True)
    if isinstance(got, int):
        return got
    cf = casefile.load(conn, service.cipher, case_id)
    assert cf is not None
    alerts = casefile.case_alerts(conn, service.cipher, case_id, messages=not got.for_risk)
    waiting = [a.row.id for a in alerts if a.row.kind == "message"]
    if got.for_risk:
        records.audit(conn, v.actor, "case_viewed_for_risk", now, got.case.person_id, case_id,
                      {"alerts": casework.open_risk(conn, case_id)})
    else:
        records.audit(conn, v.actor, "case_viewed", now, got.case.person_id, case_id,
                      {"waiting": waiting} if waiting else None)
    assert v.user is not None
    kept = None if got.for_risk else kept_forms.pending(conn, service.cipher, v.user.id, now,
                                                         case_id)
    return Shown(got, cf, alerts, facilitators.all_active(conn),
                 [] if got.for_risk else letters.for_case(conn, case_id),
                 None if got.for_risk else relay_view.for_case(
                     conn, service.cipher, case_id, got.case.person_id), kept)


def local_input(moment: datetime, tz: str) -> str:
    """A time as a datetime-local field shows it, in the service's timezone."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


@staff
async def case_page(request: Request, v: Visitor) -> Response:
    return await show_case(request, v, int(request.path_params["case_id"]))


async def show_case(request: Request, v: Visitor, case_id: int, status: int = 200,
                    problems: dict[int, str] | None = None,
                    drafts: dict[int, str] | None = None,
                    note: dict[str, Any] | None = None) -> Response:
    """Decrypt and show one case; the view itself goes into the audit log. `problems` and
    `drafts` (by alert id) put a refused note back in its form with the reason; `note`, a
    refused case note (its `error` and `typed` fields)."""
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    shown = await service.db.write(lambda c: _view(c, service, v, case_id, now))
    if isinstance(shown, int):
        return await denied(request, v, shown, case_id)
    access, cf = shown.access, shown.cf
    others = {k: val for k, val in cf.answers.items()
              if k not in SHOWN_ANSWERS and k not in passphrase.HIDDEN and k not in WORKING}
    risk = [a for a in shown.alerts if a.row.kind == "risk"]
    return render(request, v, "case_risk.html" if access.for_risk else "case.html",
                  status=status, case=access.case, assigned=access.assigned, cf=cf,
                  shown_answers=SHOWN_ANSWERS, other_answers=others, staff=shown.staff,
                  windows=WINDOWS, close_reasons=CLOSE_REASONS, case_letters=shown.case_letters,
                  secret_word=passphrase.status(cf.answers, service.runtime.clock.now()),
                  risk_open=[a for a in risk if a.row.handled_at is None],
                  risk_resolved=[a for a in risk if a.row.handled_at is not None],
                  waiting=[a for a in shown.alerts if a.row.kind == "message"],
                  safe=casefile.safe_contact(cf), problems=problems or {},
                  drafts=drafts or {}, relay=shown.relay, kept=shown.kept,
                  long_fields=kept_forms.LONG, note=note or {}, how_labels=HOW_LABELS,
                  note_at=local_input(service.runtime.clock.now(), service.settings.timezone))
