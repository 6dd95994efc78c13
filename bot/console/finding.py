"""Finding cases: the search box (phone number, Telegram chat id, name, case number) and the
lists of open, closed and all cases with filters. Both show only cases the user may see (a
facilitator their assigned cases, a supervisor all: bot.console.case.may_see) and read no
sealed column beyond the few address rows a phone number's hash matched (bot.store.search).

A search is audited without what was typed (the query is personal): only which ways it
matched and the case numbers it showed.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console.auth import Visitor
from bot.console.pages import render, staff
from bot.service import Service
from bot.store import caselists, facilitators, records, search
from bot.store.search import Found

QUERY_MAX = 100
SOURCE_NAMES = {"referral": "Referral", "sms": "SMS", "telegram": "Telegram",
                "whatsapp": "WhatsApp", "unknown": "Unknown"}
STATUS_NAMES = {"open": "Open cases", "closed": "Closed cases", "all": "All cases"}


def _scope(v: Visitor) -> int | None:
    assert v.user is not None
    return None if v.user.supervisor else v.user.id


@staff
async def search_page(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    query = request.query_params.get("q", "").strip()[:QUERY_MAX]
    now = to_ts(service.runtime.clock.now())
    scope = _scope(v)

    def unit(conn: sqlite3.Connection) -> Found:
        found = search.find(conn, service.cipher, query, scope)
        records.audit(conn, v.actor, "case_search", now, detail={
            "ways": found.ways, "cases": [c.id for c in found.cases]})
        return found

    found = await service.db.write(unit) if query else Found()
    username = query.startswith("@")
    return render(request, v, "search.html", query=query, found=found, username=username,
                  sources=SOURCE_NAMES)


@staff
async def cases_page(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    filters = caselists.Filters.parse(dict(request.query_params))
    scope = _scope(v)

    def unit(conn: sqlite3.Connection) -> tuple[caselists.Listed, list[facilitators.Facilitator]]:
        return caselists.cases(conn, filters, scope), facilitators.all_active(conn)

    listed, staff_list = await service.db.read(unit)
    page = min(filters.page, listed.pages)

    def link(**changes: object) -> str:
        return "/console/cases?" + urlencode(filters.query(**changes))

    return render(request, v, "cases.html", filters=filters, listed=listed, page=page,
                  staff=staff_list, statuses=STATUS_NAMES, stages=caselists.STAGES,
                  sources=SOURCE_NAMES, link=link,
                  prev=link(page=page - 1) if page > 1 else "",
                  next=link(page=page + 1) if page < listed.pages else "")
