"""The claim lease: a row another instance claimed and never finished is taken over once,
by one instance, after the lease; a row still in flight in this process is never taken."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.channels.base import Outgoing, SendResult, Sent
from bot.clock import SystemClock
from bot.crypto import Cipher, new_key_text, parse_key
from bot.sender import Sender
from bot.store import outbox, records
from bot.store.backends import open_database

NOW = 1_780_000_000.0


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(parse_key(new_key_text()))


def _reply(c: sqlite3.Connection, cipher: Cipher, number: str, at: float,
           text: str = "reply") -> None:
    """One reply due now to the person at `number` (made if new)."""
    pid, aid, _ = records.find_or_create_person(c, cipher, "sms", number, at)
    outbox.enqueue(c, cipher, person_id=pid, address_id=aid, channel="sms", text=text,
                   choices=(), locale="en_GB", priority=outbox.REPLY, not_before=at, now=at)


def _claimed(c: sqlite3.Connection, cipher: Cipher, people: int, at: float,
             first: int = 0) -> list[int]:
    """One reply each for `people` people, claimed at `at` (as by an instance that died)."""
    for n in range(first, first + people):
        _reply(c, cipher, f"+4477009005{n:02d}", at, f"reply {n}")
    return [r.id for r in outbox.claim_due(c, cipher, at, people, ("sms",))]


async def test_only_rows_claimed_before_the_lease_and_not_busy_are_taken_once(
        backend: Path | str, cipher: Cipher) -> None:
    async with open_database(backend) as db:
        old = await db.write(lambda c: _claimed(c, cipher, 3, NOW - 100))
        fresh = await db.write(lambda c: _claimed(c, cipher, 1, NOW - 1, first=50))
        assert len(old) == 3 and len(fresh) == 1
        lease = (NOW - 10, NOW)
        taken = await db.write(lambda c: [r.id for r in outbox.in_doubt(
            c, cipher, lease, busy=frozenset(old[:1]))])
        assert taken == old[1:], "stale rows not in flight here, none of the fresh one"
        again = await db.write(lambda c: outbox.in_doubt(c, cipher, lease))
        assert [r.id for r in again] == old[:1], "a row taken over is claimed again at NOW"
        everything = await db.write(lambda c: outbox.in_doubt(c, cipher))
        assert sorted(r.id for r in everything) == sorted(old + fresh)  # start-up: all


async def test_two_instances_take_each_stale_row_over_once(pg_url: str, cipher: Cipher) -> None:
    async with open_database(pg_url) as a, open_database(pg_url) as b:
        old = await a.write(lambda c: _claimed(c, cipher, 12, NOW - 100))
        lease = (NOW - 10, NOW)
        got = await asyncio.gather(*(db.write(lambda c: [r.id for r in outbox.in_doubt(
            c, cipher, lease)]) for db in (a, b, a, b)))
    counts = Counter(i for ids in got for i in ids)
    assert sorted(counts) == sorted(old) and set(counts.values()) == {1}


class Slow:
    """An SMS channel whose sends take longer than the lease; counts them."""

    name = "sms"

    def __init__(self) -> None:
        self.sends: list[int] = []

    async def send(self, out: Outgoing) -> SendResult:
        self.sends.append(out.outbox_id)
        await asyncio.sleep(0.6)
        return Sent(f"P{out.outbox_id}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None


async def test_a_send_slower_than_the_lease_is_not_taken_over_by_its_own_sender(
        tmp_path: Path, cipher: Cipher) -> None:
    async with open_database(tmp_path / "lease.sqlite3") as db:
        channel = Slow()
        sender = Sender(db, cipher, SystemClock(), {"sms": channel}, lease=0.1)
        now = SystemClock().now().timestamp()

        await db.write(lambda c: _reply(c, cipher, "+447700900599", now))
        running = asyncio.create_task(sender.run(idle=0.05))
        try:
            async with asyncio.timeout(10):
                while await db.read(lambda c: c.execute(
                        "SELECT status FROM outbox").fetchone()[0]) != "sent":
                    await asyncio.sleep(0.02)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    assert len(channel.sends) == 1, "its own send in flight was taken over and sent again"


async def test_an_instance_starting_up_leaves_alone_what_a_live_one_is_sending(
        pg_url: str, cipher: Cipher) -> None:
    """A rolling restart on PostgreSQL: B starts while A's send is in flight; one send."""
    async with open_database(pg_url) as a, open_database(pg_url) as b:
        channel = Slow()
        now = SystemClock().now().timestamp()

        await a.write(lambda c: _reply(c, cipher, "+447700900598", now))
        senders = [Sender(db, cipher, SystemClock(), {"sms": channel}, lease=30.0)
                   for db in (a, b)]
        first = asyncio.create_task(senders[0].run(idle=0.05))
        second: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(10):
                while not channel.sends:  # A has claimed the row and is sending it
                    await asyncio.sleep(0.01)
                second = asyncio.create_task(senders[1].run(idle=0.05))  # B starts up now
                while await a.read(lambda c: c.execute(
                        "SELECT status FROM outbox").fetchone()[0]) != "sent":
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.2)  # B's start-up recovery has run by now
        finally:
            for task in (first, second):
                if task is not None:
                    task.cancel()
            await asyncio.gather(first, *([second] if second else []), return_exceptions=True)
    assert len(channel.sends) == 1, "a starting instance sent again what a live one was sending"
