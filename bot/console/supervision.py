"""Supervisor pages: the audit log (with the chain verified on every view) and erasure.

Only supervisors reach these; anyone else gets 403 and the attempt is audited. Erasure removes
a person's personal content (bot.privacy.subject.erase); a refusal records the exemption
relied on. Both need the form's CSRF token and an explicit confirmation.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.clock import to_ts
from bot.console import notices
from bot.console.auth import Visitor
from bot.console.case import Access, access_or_error
from bot.console.pages import error, form_value, redirect, render, staff
from bot.privacy import report, subject
from bot.service import Service
from bot.store import audit, records

PAGE = 100


async def not_supervisor(request: Request, v: Visitor, what: str) -> Response | None:
    assert v.user is not None
    if v.user.supervisor:
        return None
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    await service.db.write(lambda c: records.audit(c, v.actor, "supervisor_page_denied", now,
                                                   detail={"page": what}))
    return error(request, v, 403, "Only supervisors can do this.")


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdecimal() else None


def events(conn: sqlite3.Connection, before: int | None, case_id: int | None
           ) -> list[dict[str, Any]]:
    """Newest first, one page; the detail column holds ids and kinds, never content."""
    sql = "SELECT id, at, actor, action, person_id, case_id, detail FROM audit WHERE 1 = 1"
    params: list[Any] = []
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    if case_id is not None:
        sql += " AND case_id = ?"
        params.append(case_id)
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, PAGE)).fetchall()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]


@staff
async def audit_page(request: Request, v: Visitor) -> Response:
    if (denied := await not_supervisor(request, v, "audit")) is not None:
        return denied
    service: Service = request.app.state.service
    before = _int(request.query_params.get("before"))
    case_id = _int(request.query_params.get("case"))
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> tuple[audit.Verdict, list[dict[str, Any]]]:
        records.audit(conn, v.actor, "audit_viewed", now, None, case_id)
        return audit.verify(conn), events(conn, before, case_id)

    verdict, rows = await service.db.write(unit)
    older = rows[-1]["id"] if len(rows) == PAGE else None
    return render(request, v, "audit.html", verdict=verdict, rows=rows, older=older,
                  case_filter=case_id)


async def _erasure_case(request: Request, v: Visitor) -> Access | Response:
    """The case of an erasure request (open or closed), for supervisors only."""
    if (denied := await not_supervisor(request, v, "erase")) is not None:
        return denied
    return await access_or_error(request, v, open_only=False)


@staff
async def erase(request: Request, v: Visitor) -> Response:
    """Erase the personal content of the person on this case (all their cases)."""
    got = await _erasure_case(request, v)
    if isinstance(got, Response):
        return got
    if await form_value(request, "confirm") != "yes":
        return error(request, v, 400, "Tick the box to confirm the erasure. Nothing was erased.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    pid = got.case.person_id
    done = await service.db.read(lambda c: subject.is_erased(c, pid)
                                 and not subject.has_content(c, pid))
    if done:
        return error(request, v, 409, "This person's personal content was already erased.")

    def unit(conn: sqlite3.Connection) -> None:
        subject.erase(conn, got.case.person_id, now, v.actor)
        records.audit(conn, v.actor, "erasure_requested", now, got.case.person_id,
                      got.case.id, {"via": "console"})

    await service.db.write(unit)
    await service.db.checkpoint()  # the old pages leave the WAL file too
    return redirect(notices.url(f"/console/cases/{got.case.id}", "erased"))


@staff
async def access_export(request: Request, v: Visitor) -> Response:
    """An access request from the case page: the person's own page, downloaded, audited."""
    got = await _erasure_case(request, v)
    if isinstance(got, Response):
        return got
    service: Service = request.app.state.service
    clock_now = service.runtime.clock.now()
    pid = got.case.person_id

    def unit(conn: sqlite3.Connection) -> dict[str, Any]:
        records.audit(conn, v.actor, "exported", to_ts(clock_now), pid, got.case.id,
                      {"via": "console"})
        return subject.export(conn, service.cipher, pid)

    page = report.render(await service.db.write(unit), clock_now)
    return HTMLResponse(page, headers={
        "Content-Disposition": f'attachment; filename="rjbot-export-{pid}.html"',
        "Cache-Control": "no-store"})


@staff
async def refuse(request: Request, v: Visitor) -> Response:
    """Record that an erasure request was refused, and the exemption relied on."""
    got = await _erasure_case(request, v)
    if isinstance(got, Response):
        return got
    exemption = await form_value(request, "exemption", 200)
    if not exemption:
        return error(request, v, 400, "Say which exemption the refusal relies on.")
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())
    await service.db.write(lambda c: subject.refuse_erasure(
        c, got.case.person_id, now, v.actor, exemption))
    return redirect(notices.url(f"/console/cases/{got.case.id}", "erasure_refused"))
