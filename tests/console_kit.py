"""Shared helpers for the console tests: the real app over ASGI, accounts, a new contact."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from bot.clock import Clock, SystemClock, to_ts
from bot.config import Settings
from bot.console.auth import hash_password
from bot.runtime import Inbound
from bot.service import Service
from bot.store import facilitators, records
from bot.web import create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@asynccontextmanager
async def console(settings: Settings, base_url: str = "http://testserver",
                  clock: Clock | None = None
                  ) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The whole app with its lifespan (service, sender, sweep), and a client with cookies."""
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield app, client


def service_of(app: Starlette) -> Service:
    svc: Service = app.state.service
    return svc


async def add_user(app: Starlette, email: str, name: str, supervisor: bool = False) -> int:
    hashed = hash_password(PASSWORD)
    svc = service_of(app)
    return await svc.db.write(
        lambda c: facilitators.add(c, email, name, hashed, supervisor, 0.0))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD
                ) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", data={
        "csrf": csrf_of(page.text), "email": email, "password": password})


async def post(client: httpx.AsyncClient, url: str, data: dict[str, str] | None = None,
               page: str = "/console/") -> httpx.Response:
    """A form post with the CSRF token taken from a page the user can see."""
    token = csrf_of((await client.get(page)).text)
    return await client.post(url, data={"csrf": token, **(data or {})})


async def new_contact(app: Starlette, address: str = "+447700900123",
                      name: str = "Sam") -> int:
    """A person texts in and answers the first-contact questions: a case with a clock."""
    runtime = service_of(app).runtime
    for n, text in enumerate(("hello", "1", "1", "1", name, "1", "2", "2")):
        await runtime.handle(Inbound("sms", address, f"{address}-{n}", text))
    svc = service_of(app)
    row = await svc.db.read(lambda c: c.execute(
        "SELECT max(c.id) FROM cases c JOIN addresses a ON a.person_id = c.person_id"
        " WHERE a.address_hash = ?", (svc.cipher.address_hash("sms", address),)).fetchone())
    assert row[0] is not None, "first contact did not open a case"
    return int(row[0])


async def person_of(app: Starlette, case_id: int) -> int:
    row = await service_of(app).db.read(
        lambda c: c.execute("SELECT person_id FROM cases WHERE id = ?", (case_id,)).fetchone())
    return int(row[0])


async def enquiry(app: Starlette, address: str, text: str = "hello") -> int:
    """A person's first message, questions not finished: the case the runtime opens for it
    (stage new_contact, flag `unfinished`), made here if this runtime does not open one yet."""
    svc = service_of(app)
    await svc.runtime.handle(Inbound("sms", address, f"{address}-first", text))

    def unit(c: sqlite3.Connection) -> int:
        found = records.find_address(c, svc.cipher, "sms", address)
        assert found is not None, "the first message made no person"
        row = c.execute("SELECT max(id) FROM cases WHERE person_id = ?", (found[0],)).fetchone()
        if row[0] is not None:
            return int(row[0])
        now = to_ts(svc.runtime.clock.now())
        made = c.execute(
            "INSERT INTO cases (person_id, stage, reply_due_at, flags, created_at, updated_at)"
            " VALUES (?, 'new_contact', ?, 'unfinished', ?, ?)",
            (found[0], now + 48 * 3600, now, now)).lastrowid
        assert made is not None
        return int(made)

    return await svc.db.write(unit)


async def message_in(app: Starlette, case_id: int, text: str) -> int:
    """A message from the case's person in the message log (sealed, as the runtime logs it)."""
    svc = service_of(app)
    person = await person_of(app, case_id)
    now = to_ts(svc.runtime.clock.now())

    def unit(c: sqlite3.Connection) -> int:
        records.log_message(c, svc.cipher, person, "in", "sms", text, now)
        return int(c.execute("SELECT max(id) FROM messages").fetchone()[0])

    return await svc.db.write(unit)


async def raise_alert(app: Starlette, kind: str, case_id: int,
                      data: dict[str, object] | None = None) -> int:
    """An alert row as the runtime writes one (`data` holds ids and codes only)."""
    svc = service_of(app)
    person = await person_of(app, case_id)
    now = to_ts(svc.runtime.clock.now())
    return await svc.db.write(lambda c: int(c.execute(
        "INSERT INTO alerts (kind, person_id, case_id, data, created_at) VALUES (?, ?, ?, ?, ?)",
        (kind, person, case_id, json.dumps(data or {}), now)).lastrowid or 0))


class MiddayClock(SystemClock):
    """Real time moving on, but shifted to 12:00 UTC today: inside everyone's safe times."""

    def __init__(self) -> None:
        real = datetime.now(UTC)
        self.offset = real.replace(hour=12, minute=0, second=0, microsecond=0) - real

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset
