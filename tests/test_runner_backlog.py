"""A backlog of due jobs at start-up (after downtime) fires once each, without making a person
who writes meanwhile wait for the whole backlog."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.clock import to_ts
from bot.runtime import Inbound
from bot.scheduler.runner import PAUSE, PAUSES, Runner
from bot.service import Service
from bot.store import jobs, records

BACKLOG = 600


async def done_jobs(service: Service) -> int:
    return int(await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM jobs WHERE status != 'pending'").fetchone()[0]))


async def test_a_backlog_of_due_check_ins_does_not_delay_a_message(service: Service) -> None:
    now = to_ts(service.runtime.clock.now())

    def backlog(conn: sqlite3.Connection) -> None:
        for n in range(BACKLOG):
            person, _, _ = records.find_or_create_person(
                conn, service.cipher, "sms", f"+44770090{n:04d}", now - 3600)
            jobs.schedule(conn, person_id=person, kind="checkin", due_at=now - 60,
                          now=now - 3600, key="checkin_1", data={"n": 1, "of": 1})

    await service.db.write(backlog)
    runner = Runner(service.runtime)
    await runner.start()
    try:
        assert [j.id for j in runner.scheduler.get_jobs()] == ["sweep"], "an alarm per job"
        await asyncio.sleep(0.01)  # the sweep has begun on the backlog
        applied = await service.runtime.handle(Inbound("sms", "+447700909999", "SM-1", "hello"))
        assert applied is not None and applied.outbox_ids
        behind = await done_jobs(service)
        assert behind < BACKLOG // 3, f"the message waited for {behind} of {BACKLOG} jobs"
        async with asyncio.timeout(30):
            while await done_jobs(service) < BACKLOG:
                await asyncio.sleep(0.02)
    finally:
        await runner.stop()
    asked = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM outbox WHERE priority = 1").fetchone()[0])
    assert asked == BACKLOG, "each check-in asked once"


async def test_the_sweep_waits_while_a_message_is_being_applied(service: Service) -> None:
    """Between swept jobs the sweep leaves the loop to people's messages, but only for a
    bounded time: a backlog drains in the gaps and is never starved."""
    runner = Runner(service.runtime)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await runner._pace()
    idle = loop.time() - started
    service.runtime.inbound_in_flight += 1  # as while a webhook's unit waits for its commit
    try:
        started = loop.time()
        await runner._pace()
        busy = loop.time() - started
    finally:
        service.runtime.inbound_in_flight -= 1
    assert idle < PAUSE
    assert PAUSES * PAUSE <= busy < PAUSES * PAUSE + 0.5
