"""Live updates (issue 16 deliverable 4) through the real ASGI app: the event streams, who may
open them and their sections, the urgent count in the title, and how a stream ends.

httpx's ASGITransport waits for a whole response, so the streams are read by calling the
app as a server would: a request, then messages as they are sent, then a disconnect."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from bot.console import live
from bot.store import facilitators
from tests.console_kit import (
    add_user,
    console,
    login,
    message_in,
    new_contact,
    post,
    raise_alert,
    service_of,
)

SUE, ALICE, CAROL = (f"{n}@example.org" for n in ("sue", "alice", "carol"))
TITLE = re.compile(r"<title>(.*?)</title>")


@dataclass
class Stream:
    """One open response of the app: its status, headers, and the events read so far."""

    task: asyncio.Task[None]
    disconnect: asyncio.Event
    messages: asyncio.Queue[dict[str, Any]]
    status: int = 0
    buffer: str = ""
    done: bool = False
    seen: list[tuple[str, str]] = field(default_factory=list)

    async def start(self) -> None:
        first = await asyncio.wait_for(self.messages.get(), 5)
        assert first["type"] == "http.response.start"
        self.status = first["status"]
        self.headers = {k.decode(): v.decode() for k, v in first["headers"]}

    async def event(self, timeout: float = 5.0) -> tuple[str, str]:
        """The next named event (comments and the retry line skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                while "\n\n" in self.buffer:
                    block, self.buffer = self.buffer.split("\n\n", 1)
                    fields = dict(line.split(": ", 1) for line in block.splitlines()
                                  if ": " in line and not line.startswith(":"))
                    if "event" in fields:
                        self.seen.append((fields["event"], fields.get("data", "")))
                        return self.seen[-1]
                message = await self.messages.get()
                self.buffer += message.get("body", b"").decode()
                if not message.get("more_body", False):
                    self.done = True
                    return "", ""

    async def close(self) -> None:
        self.disconnect.set()
        await asyncio.wait_for(self.task, 5)


@contextlib.asynccontextmanager
async def stream(app: Starlette, client: httpx.AsyncClient, path: str,
                 query: str = "") -> AsyncIterator[Stream]:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
             "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()),
                         (b"accept", b"text/event-stream")],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    disconnect = asyncio.Event()
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await messages.put(message)

    s = Stream(asyncio.create_task(app(scope, receive, send)), disconnect, messages)
    try:
        await s.start()
        yield s
    finally:
        disconnect.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(s.task, 5)


async def team(app: Starlette, case_id: int) -> dict[str, int]:
    ids = {"sue": await add_user(app, SUE, "Sue Super", supervisor=True),
           "alice": await add_user(app, ALICE, "Alice Adams"),
           "carol": await add_user(app, CAROL, "Carol Cole")}
    await service_of(app).db.write(
        lambda c: facilitators.assign(c, case_id, [ids["alice"]], "test", 0.0))
    return ids


def title(page: str) -> str:
    found = TITLE.search(page)
    assert found
    return found.group(1)


async def test_the_dashboard_stream_sends_a_change_after_a_new_alert(settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        page = (await client.get("/console/")).text
        assert 'data-live-events="/console/live/dashboard/events"' in page
        assert '<script src="/console/static/live.js" defer></script>' in page
        assert "<script" not in (await client.get("/console/referrals/new")).text  # not live
        async with stream(app, client, "/console/live/dashboard/events") as s:
            assert s.status == 200
            assert s.headers["content-type"].startswith("text/event-stream")
            assert "no-store" in s.headers["cache-control"]
            assert await s.event() == ("ready", '{"urgent": 0}')
            started = time.monotonic()
            await raise_alert(app, "risk", case_id, {"category": "suicide"})
            assert await s.event() == ("change", '{"urgent": 1}')
            assert time.monotonic() - started < 2.5
            # a message for the team: the dashboard changes, the urgent count does not
            await raise_alert(app, "message", case_id)
            assert await s.event() == ("change", '{"urgent": 1}')
            await s.close()
            assert s.task.done()  # the client went: the stream ended


async def test_a_case_stream_sees_a_new_message_and_the_part_shows_it(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        async with stream(app, client, f"/console/cases/{case_id}/live/events") as s:
            assert (await s.event())[0] == "ready"
            await message_in(app, case_id, "Is Thursday still all right?")
            assert (await s.event())[0] == "change"
        part = await client.get(f"/console/cases/{case_id}/live")
        assert part.status_code == 200
        assert "Is Thursday still all right?" in part.text
        assert 'id="timeline" data-live' in part.text
        audit = await service_of(app).db.read(lambda c: c.execute(
            "SELECT count(*) FROM audit WHERE action = 'case_viewed' AND case_id = ?",
            (case_id,)).fetchone()[0])
        assert audit == 1  # the live section decrypted the thread: a view, audited


async def test_a_page_rendered_before_the_alert_is_told_at_once(settings: Settings) -> None:
    """The stream opens after the page: what came in between is not missed."""
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        page = (await client.get("/console/")).text
        since = re.search(r'data-live-since="([0-9.]+)"', page)
        assert since
        await raise_alert(app, "risk", case_id)
        async with stream(app, client, "/console/live/dashboard/events",
                          f"since={since.group(1)}") as s:
            assert await s.event() == ("change", '{"urgent": 1}')


async def test_streams_and_parts_need_a_session_and_access(settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        for path in ("/console/live/dashboard", "/console/live/dashboard/events",
                     f"/console/cases/{case_id}/live", f"/console/cases/{case_id}/live/events"):
            response = await client.get(path)
            assert response.status_code == 401, path  # no redirect: the script stops
        async with stream(app, client, "/console/live/dashboard/events") as s:
            assert s.status == 401
        await login(client, CAROL)  # on duty, not on this case
        assert (await client.get(f"/console/cases/{case_id}/live")).status_code == 403
        async with stream(app, client, f"/console/cases/{case_id}/live/events") as s:
            assert s.status == 403
        denied = await service_of(app).db.read(lambda c: c.execute(
            "SELECT count(*) FROM audit WHERE action = 'case_access_denied'"
            " AND actor = ?", (CAROL,)).fetchone()[0])
        assert denied == 2
        part = (await client.get("/console/live/dashboard")).text
        assert f"Case {case_id}<" not in part  # not hers
        # while a risk alert is open anyone on duty may respond: the stream opens, and ends
        # when the alert is resolved
        alert = await raise_alert(app, "risk", case_id)
        assert f"Case {case_id}<" in (await client.get("/console/live/dashboard")).text
        async with stream(app, client, f"/console/cases/{case_id}/live/events") as s:
            assert s.status == 200
            assert (await s.event())[0] == "ready"
            part = (await client.get(f"/console/cases/{case_id}/live")).text
            assert "This case is not assigned to you" in part  # the risk response page
            await service_of(app).db.write(lambda c: c.execute(
                "UPDATE alerts SET handled_at = 1 WHERE id = ?", (alert,)))
            assert await s.event() == ("ended", '{"reason": "no_access"}')
            assert (await s.event()) == ("", "") and s.done


async def test_the_stream_ends_with_the_session_and_does_not_keep_it_alive(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        svc = service_of(app)
        # well inside the idle timeout, but long enough ago that any other request touches
        recent = time.time() - 10 * 60

        def set_seen(c: sqlite3.Connection) -> None:
            c.execute("UPDATE console_sessions SET seen_at = ?", (recent,))

        await svc.db.write(set_seen)
        assert (await client.get("/console/live/dashboard")).status_code == 200
        async with stream(app, client, "/console/live/dashboard/events") as s:
            assert (await s.event())[0] == "ready"
            seen = await svc.db.read(
                lambda c: c.execute("SELECT seen_at FROM console_sessions").fetchone()[0])
            assert seen == recent  # live updates are not activity
            await post(client, "/console/logout")
            assert await s.event() == ("ended", '{"reason": "signed_out"}')
            assert (await s.event()) == ("", "") and s.done


async def test_the_stream_ends_when_the_server_stops(settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        async with stream(app, client, "/console/live/dashboard/events") as s:
            assert (await s.event())[0] == "ready"
            live.stop(app)
            assert (await s.event(timeout=2)) == ("", "") and s.done
            await asyncio.wait_for(s.task, 2)


async def test_the_title_counts_urgent_items(settings: Settings) -> None:
    """Urgent: open risk alerts (everyone on duty sees them) and the user's own new contacts
    whose reply clock ran out."""
    async with console(settings) as (app, client):
        case_id = await new_contact(app)
        await team(app, case_id)
        await login(client, ALICE)
        assert title((await client.get("/console/")).text) == "Dashboard · RJ console"
        await raise_alert(app, "risk", case_id)
        await service_of(app).db.write(lambda c: c.execute(
            "UPDATE cases SET reply_due_at = 1 WHERE id = ?", (case_id,)))
        assert title((await client.get("/console/")).text) == "(2) Dashboard · RJ console"
        assert title((await client.get(f"/console/cases/{case_id}")).text).startswith("(2) ")
        await post(client, "/console/logout")
        await login(client, CAROL)  # not her contact: only the risk alert is hers to see
        assert title((await client.get("/console/")).text) == "(1) Dashboard · RJ console"
