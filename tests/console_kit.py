"""Shared helpers for the console tests: the real app over ASGI, accounts, a new contact."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pyotp
from starlette.applications import Starlette

from bot.clock import Clock, SystemClock, to_ts
from bot.config import Settings
from bot.console.auth import hash_password
from bot.runtime import Inbound
from bot.service import Service
from bot.store import facilitators, records, secondfactor
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


def totp_secret(email: str) -> str:
    """Each test account's TOTP secret, made from its email (tests only)."""
    digest = hashlib.sha256(b"rjbot test totp " + email.strip().lower().encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def enrol(conn: sqlite3.Connection, svc: Service, facilitator_id: int, email: str) -> None:
    """The account's second factor, set up as a first sign-in would leave it."""
    secondfactor.set_secret(conn, svc.cipher, facilitator_id, totp_secret(email))
    secondfactor.enrol(conn, facilitator_id, [], 0.0)


async def add_user(app: Starlette, email: str, name: str, supervisor: bool = False,
                   enrolled: bool = True) -> int:
    hashed = hash_password(PASSWORD)
    svc = service_of(app)

    def unit(c: sqlite3.Connection) -> int:
        fid = facilitators.add(c, email, name, hashed, supervisor, 0.0)
        if enrolled:
            enrol(c, svc, fid, email)
        return fid

    return await svc.db.write(unit)


_USED: dict[tuple[str, str], int] = {}  # the newest TOTP step each test account has used
_LEARNT: dict[tuple[str, str], str] = {}  # secrets read from an enrolment page
KEY = re.compile(r"Key: <code>([A-Z2-7 ]+)</code>")


def _clock_and_place(client: httpx.AsyncClient) -> tuple[Callable[[], float], str]:
    """The service's clock and database for an app over ASGI; real time for a real server."""
    transport = client._transport
    if isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, Starlette):
        svc = service_of(transport.app)
        return (lambda: to_ts(svc.runtime.clock.now())), str(svc.settings.database_target)
    return time.time, str(client.base_url)


async def totp_code(client: httpx.AsyncClient, email: str) -> str:
    """A code the service has not seen yet: a step within its skew, newer than the last one
    used (a code is accepted once); waits for the next step when three were used."""
    now_of, place = _clock_and_place(client)
    return await unused_code(place, email, now_of)


async def unused_code(place: str, email: str, now_of: Callable[[], float]) -> str:
    """A fresh code for the account `email` of the service at `place` (its database or URL)."""
    key = (place, email.strip().lower())
    while True:
        now = now_of()
        current = int(now // 30)
        step = max(current - 1, _USED.get(key, -10) + 1)
        if step <= current + 1:
            break
        await asyncio.sleep((step - 1) * 30 - now + 0.05)
    _USED[key] = step
    return pyotp.TOTP(_LEARNT.get(key) or totp_secret(email)).at(step * 30)


async def enter_code(client: httpx.AsyncClient, email: str, code: str | None = None
                     ) -> httpx.Response:
    """The second step; at a first sign-in the secret is read from the enrolment page."""
    page = await client.get("/console/login/code")
    enrolling = KEY.search(page.text)
    if enrolling:
        _LEARNT[(_clock_and_place(client)[1], email.strip().lower())] = \
            enrolling.group(1).replace(" ", "")
    if code is None:
        code = await totp_code(client, email)
    return await client.post("/console/login/code", data={
        "csrf": csrf_of(page.text), "code": code})


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def password_step(client: httpx.AsyncClient, email: str, password: str = PASSWORD
                        ) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", data={
        "csrf": csrf_of(page.text), "email": email, "password": password})


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD
                ) -> httpx.Response:
    """Both steps: the password, then a fresh code from the account's authenticator (303 to
    the dashboard; 200, the recovery codes page, at an account's first sign-in)."""
    response = await password_step(client, email, password)
    if response.status_code != 303 or response.headers["location"] != "/console/login/code":
        return response
    return await enter_code(client, email)


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
