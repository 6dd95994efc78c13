"""The sender's loop under load: answers never wait behind a burst of scheduled messages, and
scheduled ones use at most their share of the sends in flight."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

from bot.channels.base import Outgoing, SendResult, Sent
from bot.clock import to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import outbox, records

SCHEDULED = 80


class SlowChannel:
    """Takes 50 ms a send; records the order of sends and how many were in flight at once."""

    name = "sms"

    def __init__(self) -> None:
        self.order: list[Outgoing] = []
        self.in_flight = 0
        self.most_scheduled = 0
        self._scheduled = 0

    async def send(self, out: Outgoing) -> SendResult:
        self.in_flight += 1
        self._scheduled += out.scheduled
        self.most_scheduled = max(self.most_scheduled, self._scheduled)
        try:
            await asyncio.sleep(0.05)
        finally:
            self.in_flight -= 1
            self._scheduled -= out.scheduled
        self.order.append(out)
        return Sent(f"P{out.outbox_id}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None


async def test_an_answer_goes_ahead_of_a_burst_of_check_ins(service: Service) -> None:
    channel = SlowChannel()
    service.sender.channels = {"sms": channel}
    now = to_ts(service.runtime.clock.now())

    def burst(conn: sqlite3.Connection) -> None:
        for n in range(SCHEDULED):
            person, address, _ = records.find_or_create_person(
                conn, service.cipher, "sms", f"+4477009007{n:02d}", now)
            outbox.enqueue(conn, service.cipher, person_id=person, address_id=address,
                           channel="sms", text="How are you?", choices=(), locale="en_GB",
                           priority=outbox.SCHEDULED, not_before=now, now=now)

    await service.db.write(burst)
    running = asyncio.create_task(service.sender.run(idle=0.5))
    try:
        async with asyncio.timeout(20):
            while not channel.order:  # the burst has started going out
                await asyncio.sleep(0.005)
            await service.runtime.handle(Inbound("sms", "+447700900799", "SM-x", "hello"))
            while not any(o.address == "+447700900799" for o in channel.order):
                await asyncio.sleep(0.005)
            scheduled_before = sum(o.scheduled for o in channel.order)
            while len(channel.order) < SCHEDULED + 2:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    # a few go out while the answer is committed and claimed; never the whole burst
    assert scheduled_before < SCHEDULED // 2, f"the answer waited for {scheduled_before} check-ins"
    assert channel.most_scheduled <= service.sender.scheduled_slots
    answers = [o for o in channel.order if o.address == "+447700900799"]
    assert len(answers) == 2 and not any(o.scheduled for o in answers)


async def test_a_result_that_cannot_be_stored_is_kept_and_stored_later(
    service: Service, monkeypatch: Any
) -> None:
    """The disk fills just after a send: the loop survives, the row is recorded once later."""
    channel = SlowChannel()
    service.sender.channels = {"sms": channel}
    write = service.db.write
    failures = 2

    async def flaky_write(unit: Any) -> Any:
        nonlocal failures
        if channel.order and failures:  # the provider has it; now the database refuses
            failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return await write(unit)

    monkeypatch.setattr(service.db, "write", flaky_write)
    await service.runtime.handle(Inbound("sms", "+447700900798", "SM-y", "hello"))
    running = asyncio.create_task(service.sender.run(idle=0.2))
    try:
        async with asyncio.timeout(20):
            while await service.db.read(lambda c: c.execute(
                    "SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()[0]):
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert failures == 0, "the database never refused"
    assert len(channel.order) == 2, "a reply was sent again after its result was lost"
