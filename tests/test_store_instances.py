"""Several instances on one PostgreSQL database: two Database objects (or two services, or
two apps) on the same URL are two `rjbot serve` as far as the store can tell."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from typing import cast

import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import VirtualClock
from bot.config import Settings
from bot.crypto import Cipher, new_key_text, parse_key
from bot.privacy import retention
from bot.runtime import Inbound
from bot.service import Service
from bot.store import jobs, outbox, records
from bot.store.backends import open_database
from bot.store.db import Database
from bot.store.postgres.conn import Connection
from tests.conftest import START
from tests.console_kit import add_user, console, csrf_of, login

NOW = 1_780_000_000.0
PEOPLE = [f"+4477009001{n:02d}" for n in range(4)]


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(parse_key(new_key_text()))


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[Database, Database]]:
    async with open_database(pg_url) as a, open_database(pg_url) as b:
        yield a, b


def _fill_outbox(c: sqlite3.Connection, cipher: Cipher, per_person: int) -> list[int]:
    ids = []
    for phone in PEOPLE:
        pid, aid, _ = records.find_or_create_person(c, cipher, "sms", phone, NOW)
        ids += [outbox.enqueue(c, cipher, person_id=pid, address_id=aid, channel="sms",
                               text=f"message {n}", choices=(), locale="en_GB",
                               priority=outbox.REPLY, not_before=NOW, now=NOW)
                for n in range(per_person)]
    return ids


async def test_two_instances_claim_every_outbox_row_exactly_once(
        two: tuple[Database, Database], cipher: Cipher) -> None:
    ids = await two[0].write(lambda c: _fill_outbox(c, cipher, 30))
    claimed: list[tuple[int, int]] = []

    async def sender(n: int, db: Database) -> None:
        while rows := await db.write(lambda c: outbox.claim_due(c, cipher, NOW, 3, ("sms",))):
            claimed.extend((n, r.id) for r in rows)
            for r in rows:
                await db.write(lambda c, r=r: outbox.mark_sent(c, r.id, f"SM{r.id}", NOW))

    await asyncio.gather(*(sender(n, two[n % 2]) for n in range(6)))
    by_row = Counter(row for _, row in claimed)
    assert sorted(by_row) == sorted(ids) and set(by_row.values()) == {1}
    assert {n % 2 for n, _ in claimed} == {0, 1}  # both instances sent some
    sent = await two[1].read(lambda c: c.execute(
        "SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0])
    assert sent == len(ids)


async def test_two_instances_fire_every_job_exactly_once(two: tuple[Database, Database]) -> None:
    ids = await two[0].write(lambda c: [jobs.schedule(c, person_id=None, kind="sweep",
                                                      due_at=NOW + n, now=NOW)
                                        for n in range(40)])
    fired: list[int] = []

    async def runner(db: Database) -> None:
        for job_id, _ in await db.read(lambda c: jobs.due(c, NOW + 100)):
            job = await db.write(lambda c, j=job_id: jobs.claim(c, j, NOW + 100))
            if job is not None:
                fired.append(job.id)

    await asyncio.gather(*(runner(two[n % 2]) for n in range(4)))
    assert sorted(fired) == sorted(ids)  # each once, though four runners saw every one due


def _raw(url: str) -> Connection:
    conn = Connection.connect(url)
    conn.raw.execute("SET lock_timeout = '5s'")  # a claim that waits fails, not hangs
    conn.raw.execute("BEGIN")
    return conn


def test_skip_locked_passes_over_what_another_transaction_is_claiming(
        pg_url: str, cipher: Cipher) -> None:
    """Without the store's write lock: the claiming queries alone keep claims apart."""
    async def setup() -> list[int]:
        async with open_database(pg_url) as db:
            return await db.write(lambda c: _fill_outbox(c, cipher, 3)) + [
                await db.write(lambda c: jobs.schedule(c, person_id=None, kind="sweep",
                                                       due_at=NOW, now=NOW))]

    *rows, job_id = asyncio.run(setup())
    a, b = _raw(pg_url), _raw(pg_url)
    try:
        first = outbox.claim_due(cast(sqlite3.Connection, a), cipher, NOW, 5, ("sms",))
        second = outbox.claim_due(cast(sqlite3.Connection, b), cipher, NOW, 50, ("sms",))
        assert len(first) == 5 and {r.id for r in first}.isdisjoint({r.id for r in second})
        assert sorted(r.id for r in first + second) == sorted(rows)  # b did not wait for a
        assert jobs.claim(cast(sqlite3.Connection, a), job_id, NOW) is not None
        assert jobs.claim(cast(sqlite3.Connection, b), job_id, NOW) is None
    finally:
        for conn in (a, b):
            conn.raw.execute("COMMIT")
            conn.close()


@pytest.fixture
async def services(pg_url: str) -> AsyncIterator[tuple[Service, Service]]:
    settings = Settings(database_url=pg_url, data_key=new_key_text())
    sent: list[dict[str, object]] = []
    opened = []
    try:
        for _ in range(2):
            channels = {n: ConsoleChannel(n, sent.append) for n in ("sms", "telegram")}
            opened.append(await Service.open(settings, VirtualClock(START), channels))
        yield opened[0], opened[1]
    finally:
        for svc in opened:
            await svc.close()


async def test_one_persons_messages_are_applied_one_at_a_time_across_instances(
        services: tuple[Service, Service]) -> None:
    words = ["hello", "Ada", "1", "1", "yes", "no", "help", "1", "2", "ok"]
    await asyncio.gather(*(services[n % 2].runtime.handle(
        Inbound("sms", PEOPLE[0], f"SM{n:03d}", text)) for n, text in enumerate(words)))
    db = services[0].db
    version, logged = await db.read(lambda c: tuple(c.execute(
        "SELECT (SELECT version FROM conversations), (SELECT count(*) FROM messages"
        " WHERE direction = 'in')").fetchone()))
    assert logged == len(words)
    assert version == len(words)  # no step was lost to another instance's step


async def test_a_redelivered_message_is_applied_once_across_instances(
        services: tuple[Service, Service]) -> None:
    again = Inbound("sms", PEOPLE[1], "SMsame", "hello")
    applied = await asyncio.gather(*(services[n % 2].runtime.handle(again) for n in range(8)))
    assert sum(a is not None for a in applied) == 1
    counts = await services[1].db.read(lambda c: tuple(c.execute(
        "SELECT (SELECT count(*) FROM inbound), (SELECT count(*) FROM people),"
        " (SELECT count(*) FROM messages WHERE direction = 'in')").fetchone()))
    assert counts == (1, 1, 1)


async def test_a_new_address_becomes_one_person_across_instances(
        two: tuple[Database, Database], cipher: Cipher) -> None:
    made = await asyncio.gather(*(two[n % 2].write(
        lambda c: records.find_or_create_person(c, cipher, "sms", PEOPLE[2], NOW))
        for n in range(6)))
    assert len({(pid, aid) for pid, aid, _ in made}) == 1
    assert sum(created for _, _, created in made) == 1


async def test_one_retention_sweep_at_a_time(services: tuple[Service, Service]) -> None:
    policy = retention.Retention(90, 730, "Europe/London")
    await asyncio.gather(*(svc.db.write(lambda c: retention.ensure_job(c, policy, START))
                           for svc in services))
    pending = await services[0].db.read(lambda c: c.execute(
        "SELECT count(*) FROM jobs WHERE kind = ? AND status = 'pending'",
        (retention.KIND,)).fetchone()[0])
    assert pending == 1


async def test_a_console_session_works_on_every_instance(pg_url: str) -> None:
    settings = Settings(database_url=pg_url, data_key=new_key_text())
    async with console(settings) as (app_a, client_a), console(settings) as (_, client_b):
        await add_user(app_a, "alice@example.org", "Alice")
        assert (await client_b.get("/console/")).status_code == 303  # not signed in there
        response = await login(client_a, "alice@example.org")
        assert response.status_code == 303
        client_b.cookies = client_a.cookies
        page = await client_b.get("/console/")
        assert page.status_code == 200 and "Dashboard" in page.text
        out = await client_b.post("/console/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        assert (await client_a.get("/console/")).status_code == 303  # signed out everywhere
