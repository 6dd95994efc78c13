"""The supervisors' statistics page: the same numbers as `rjbot stats`, with a bar chart drawn
on the server as SVG (no JavaScript; nothing personal, see bot/stats.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot import stats
from bot.clock import to_ts
from bot.console.auth import Visitor
from bot.console.pages import render, staff
from bot.console.supervision import not_supervisor
from bot.service import Service
from bot.store import records

BAR_WIDTH = 360  # px of the longest bar
ROW = 28  # px per bar


def bars(counts: dict[str, int]) -> dict[str, Any]:
    """One chart's geometry: label, value, bar length and height, from the counts."""
    top = max(counts.values(), default=0) or 1
    rows = [{"label": k.replace("_", " "), "value": v, "y": i * ROW,
             "width": round(BAR_WIDTH * v / top)} for i, (k, v) in enumerate(counts.items())]
    return {"rows": rows, "height": max(len(rows), 1) * ROW, "bar_width": BAR_WIDTH}


@staff
async def stats_page(request: Request, v: Visitor) -> Response:
    if (denied := await not_supervisor(request, v, "stats")) is not None:
        return denied
    service: Service = request.app.state.service
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> dict[str, Any]:
        records.audit(conn, v.actor, "stats_viewed", now)
        return stats.compute(conn)

    found = await service.db.write(unit)
    charts = {"How far cases got": bars(found["by_stage_reached"]),
              "Would recommend it": bars(found["feedback"]),
              "Where cases came from": bars(found["by_source"])}
    return render(request, v, "stats.html", stats=found, charts=charts)
