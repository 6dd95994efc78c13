"""Live updates for the dashboard and the case page (issue 16, deliverable 4).

The page opens an event stream (server-sent events); the stream polls a cheap "what changed"
query every second (bot.store.pulse, so several `rjbot serve` instances on one database see
each other's alerts) and sends `change` when what this user may see has changed. The page
(static/live.js) then fetches its live sections from the `..._part` routes, which render the
same page with the same templates and the same access rules, and swaps in only those
sections. Without JavaScript nothing here is used. Neither route counts as activity for the
session's idle timeout; a stream ends when the session does, when the user may no longer
see the case, when the client goes, and when the server shuts down (`stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.clock import to_ts
from bot.console.auth import IDLE_TIMEOUT, Visitor, visitor
from bot.console.case import check_access, denied, show_case
from bot.console.dashboard import show_dashboard
from bot.console.pages import HEADERS, count_urgent
from bot.service import Service
from bot.store import facilitators, pulse

POLL = 0.5  # seconds between looks at the database (a page updates within 2 s)
RECHECK = 30.0  # the user's state is recomputed at least this often (reply clocks run out)
HEARTBEAT = 15.0  # a comment line when nothing else was sent: finds closed connections
RETRY_MS = 5000  # how long the browser waits before reconnecting a dropped stream

Handler = Callable[[Request, Visitor], Awaitable[Response]]
# what a stream watches: (connection, user, now) -> the state, or None when it must end
Watch = Callable[[sqlite3.Connection, Visitor, float], tuple[Any, ...] | None]


def _stopping(app: Starlette) -> asyncio.Event:
    found: asyncio.Event | None = getattr(app.state, "live_stopping", None)
    if found is None:
        found = app.state.live_stopping = asyncio.Event()
    return found


def stop(app: Starlette) -> None:
    """The server is shutting down: every open stream ends now (uvicorn waits for them)."""
    _stopping(app).set()


def watching(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Signed-in staff only, without touching the session; 401 (no redirect) otherwise."""
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        v = await visitor(request, touch=False)
        if v.user is None:
            return Response("Signed out.", status_code=401, headers=HEADERS,
                            media_type="text/plain")
        await count_urgent(request, v)
        return await handler(request, v)

    return endpoint


def _scope(v: Visitor) -> int | None:
    assert v.user is not None
    return None if v.user.supervisor else v.user.id


def _signed_in(conn: sqlite3.Connection, v: Visitor, now: float) -> Visitor | None:
    """The stream's user if their session still holds (read only: no touch)."""
    found = facilitators.session_user(conn, v.token, now, IDLE_TIMEOUT)
    return None if found is None else Visitor(v.token, found[0], v.key)


def _event(name: str, **data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@dataclass
class _Look:
    """One stream's view of the database: what it last saw, and whether to look closer."""

    v: Visitor
    watch: Watch
    person: int | None
    since: float | None
    probe: pulse.Probe | None = None
    state: tuple[Any, ...] | None = None

    def __call__(self, conn: sqlite3.Connection, now: float, due: bool
                 ) -> tuple[str, tuple[Any, ...] | None, bool]:
        """('' or why the stream ends, the state when it was computed, whether something
        came in after the page was rendered)."""
        user = _signed_in(conn, self.v, now)
        state = None if user is None else self.watch(conn, user, now)
        if user is None or state is None:
            return ("signed_out" if user is None else "no_access"), None, False
        found, self.probe = self.probe, pulse.probe(conn)
        if found == self.probe and not due:
            return "", None, False
        if self.state is not None or self.since is None:
            return "", state, False
        return "", state, pulse.newer_than(conn, _scope(user), self.person, self.since)


async def _events(request: Request, look: _Look) -> AsyncIterator[str]:
    """`ready` (or `change`, when something came in after the page was rendered), then
    `change` whenever the state moves; `ended` when the session or access is gone."""
    service: Service = request.app.state.service
    stopping = _stopping(request.app)
    computed = sent = time.monotonic()
    yield f"retry: {RETRY_MS}\n\n"
    while not stopping.is_set():
        now = to_ts(service.runtime.clock.now())
        due = look.state is None or time.monotonic() - computed >= RECHECK
        ended, state, fresh = await service.db.read(functools.partial(look, now=now, due=due))
        if ended:
            yield _event("ended", reason=ended)
            return
        if state is not None:
            computed, before, look.state = time.monotonic(), look.state, state
            name = "change" if fresh or (before is not None and state != before) else (
                "ready" if before is None else "")
            if name:
                yield _event(name, urgent=state[-1])
                sent = computed
        if time.monotonic() - sent >= HEARTBEAT:
            yield ": still here\n\n"
            sent = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), POLL)


def _since(request: Request) -> float | None:
    """When the page that opened the stream was rendered (its data-live-since), if said."""
    try:
        return float(request.query_params["since"])
    except (KeyError, ValueError):
        return None


def _stream(request: Request, v: Visitor, watch: Watch, person: int | None) -> Response:
    headers = {**HEADERS, "X-Accel-Buffering": "no"}  # a proxy must not hold events back
    return StreamingResponse(_events(request, _Look(v, watch, person, _since(request))),
                             media_type="text/event-stream", headers=headers)


@watching
async def dashboard_events(request: Request, v: Visitor) -> Response:
    def watch(conn: sqlite3.Connection, user: Visitor, now: float) -> tuple[Any, ...]:
        return pulse.dashboard(conn, _scope(user), now)

    return _stream(request, v, watch, None)


@watching
async def dashboard_part(request: Request, v: Visitor) -> Response:
    """The dashboard as the page shows it (the browser takes its live sections)."""
    return await show_dashboard(request, v)


@watching
async def case_events(request: Request, v: Visitor) -> Response:
    """A case page's stream, for whoever may open the page (its facilitators, supervisors,
    anyone on duty while a risk alert is open); it ends once they no longer may."""
    service: Service = request.app.state.service
    case_id = int(request.path_params["case_id"])
    got = await service.db.read(lambda c: check_access(c, v, case_id, risk_ok=True))
    if isinstance(got, int):
        return await denied(request, v, got, case_id, {"live": True})
    person = got.case.person_id

    def watch(conn: sqlite3.Connection, user: Visitor, now: float) -> tuple[Any, ...] | None:
        if isinstance(check_access(conn, user, case_id, risk_ok=True), int):
            return None
        return pulse.case(conn, case_id, person, _scope(user), now)

    return _stream(request, v, watch, person)


@watching
async def case_part(request: Request, v: Visitor) -> Response:
    """The case page as it is now, for its live sections: a view like any other (audited)."""
    return await show_case(request, v, int(request.path_params["case_id"]))
