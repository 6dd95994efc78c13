"""Crash recovery never takes one Twilio message for two outbox rows with the same words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels.base import Sent
from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import outbox, provider
from tests.fakes import twilio_api
from tests.fakes.twilio_harness import PERSON, started

SORRY = "Sorry, I did not understand that."


@pytest.fixture
async def fake() -> AsyncIterator[twilio_api.FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


async def _two_claimed(service: Service, clock: VirtualClock) -> list[outbox.OutboxRow]:
    await service.runtime.handle(Inbound("sms", PERSON, "SM1", "hello"))
    await service.db.write(lambda c: c.execute("UPDATE outbox SET status = 'sent'"))
    pid, aid = await service.db.read(lambda c: tuple(c.execute(
        "SELECT person_id, id FROM addresses").fetchone()))
    now = to_ts(clock.now())
    for _ in range(2):  # two answers to two unclear texts: the same words
        await service.db.write(lambda c: outbox.enqueue(
            c, service.cipher, person_id=pid, address_id=aid, channel="sms", text=SORRY,
            choices=(), locale="en_GB", priority=outbox.REPLY, not_before=now, now=now))
    rows = await service.db.write(
        lambda c: outbox.claim_due(c, service.cipher, now, 10, ("sms",)))
    assert len(rows) == 2
    return rows


async def _rows(service: Service, ids: list[int]) -> list[tuple[Any, ...]]:
    return await service.db.read(lambda c: [tuple(r) for r in c.execute(
        "SELECT status, provider_id FROM outbox WHERE id IN (?, ?) ORDER BY id", ids)])


async def test_recovery_takes_one_message_for_one_of_two_identical_rows(
        service: Service, clock: VirtualClock, fake: twilio_api.FakeTwilioAPI) -> None:
    clock.advance_to(datetime.now(UTC) - timedelta(seconds=2))
    async with started(service, fake) as channel:
        rows = await _two_claimed(service, clock)
        first = await channel.send(service.sender.outgoing(rows[0]))  # reaches Twilio
        assert isinstance(first, Sent)
        # -- crash here: both rows are 'sending'; the process restarts --
    async with started(service, fake):
        await service.sender.recover()
        ids = [r.id for r in rows]
        assert await _rows(service, ids) == [("sent", first.provider_id), ("pending", None)]
        linked = await service.db.read(lambda c: c.execute(
            "SELECT outbox_id FROM provider_messages WHERE provider_id = ?",
            (first.provider_id,)).fetchone()[0])
        assert linked == rows[0].id  # recorded: status callbacks and retention find it
        await service.sender.send_due()  # the second goes now, as its own message
        assert len(fake.to(PERSON)) == 2
        (a, pa), (b, pb) = await _rows(service, ids)
        assert (a, b) == ("sent", "sent") and pa != pb


async def test_recovery_does_not_take_a_message_recorded_for_another_row(
        service: Service, clock: VirtualClock, fake: twilio_api.FakeTwilioAPI) -> None:
    clock.advance_to(datetime.now(UTC) - timedelta(seconds=2))
    async with started(service, fake) as channel:
        rows = await _two_claimed(service, clock)
        first = await channel.send(service.sender.outgoing(rows[0]))
        assert isinstance(first, Sent)
        now = to_ts(clock.now())

        def record(c: Any) -> None:  # the first row's result was stored before the crash
            outbox.mark_sent(c, rows[0].id, first.provider_id, now)
            provider.record_sent(c, "sms", rows[0].id, [first.provider_id], "queued", now)

        await service.db.write(record)
        # -- crash before the second row reached Twilio --
    async with started(service, fake):
        await service.sender.recover()
        assert (await _rows(service, [r.id for r in rows]))[1] == ("pending", None)
