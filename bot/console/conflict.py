"""A save made from an old copy of a record: refused, with both versions side by side.

Nothing is lost: the user's typed text comes back in a form carrying the current version,
so they can merge by hand and save, or keep what the other person saved.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console.auth import Visitor
from bot.console.case import Access
from bot.console.pages import render
from bot.service import Service
from bot.store import casefile, records


async def other_party(request: Request, v: Visitor, got: Access,
                      mine: dict[str, Any]) -> Response:
    """409: the other-party record was saved by someone else after this form was read."""
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> dict[str, Any]:
        cf = casefile.load(conn, service.cipher, got.case.id)
        assert cf is not None and cf.other_party is not None
        records.audit(conn, v.actor, "stale_save_refused", now, got.case.person_id,
                      got.case.id, {"record": "other_party",
                                    "version": cf.other_party.get("version")})
        return cf.other_party

    theirs = await service.db.write(unit)
    return render(request, v, "conflict.html", status=409, case=got.case, theirs=theirs,
                  mine=mine)
