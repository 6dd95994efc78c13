"""The WhatsApp template, exactly once: a timeout or a crash while it goes never sends two.

The real outbox sender and WhatsAppChannel (twilio's client) against the fake Twilio API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import outbox
from tests.fakes import twilio_api
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.twilio_harness import PERSON, TEMPLATE_BODY, started_whatsapp

WA = "whatsapp:" + PERSON


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


async def rows(service: Service, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return await service.db.read(lambda c: [tuple(r) for r in c.execute(sql, args)])


async def flush(service: Service) -> None:
    while await service.sender.send_due():
        pass


async def person_gone_quiet(service: Service, clock: VirtualClock) -> int:
    """Someone who wrote on WhatsApp, then nothing for 25 hours; a facilitator writes."""
    applied = await service.runtime.handle(Inbound("whatsapp", PERSON, "SM" + "a" * 32, "hello"))
    assert applied is not None
    await flush(service)
    clock.advance_to(clock.now() + timedelta(hours=25))
    await service.runtime.act(applied.person_id, "send_message", {"text": "News for you."})
    return applied.person_id


async def test_a_timed_out_template_is_not_sent_twice(service: Service, clock: VirtualClock,
                                                      fake: FakeTwilioAPI) -> None:
    async with started_whatsapp(service, fake, timeout=0.3):
        await person_gone_quiet(service, clock)
        fake.faults.hang_after_create, fake.hang_seconds = 1.0, 2.0
        await flush(service)  # made at Twilio, but our call timed out: a retry later
        assert [m["body"] for m in fake.to(WA)][-1] == TEMPLATE_BODY
        fake.faults.hang_after_create = 0.0
        clock.advance_to(clock.now() + timedelta(minutes=15))
        await flush(service)
        held = await rows(service, "SELECT status, error FROM outbox WHERE status = 'held'")
    assert [m["body"] for m in fake.to(WA)].count(TEMPLATE_BODY) == 1
    assert held == [("held", "awaiting reply")]


async def test_a_crash_while_the_template_goes_is_settled_from_twilio(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with started_whatsapp(service, fake) as channel:
        person = await person_gone_quiet(service, clock)
        claimed = await service.db.write(lambda c: outbox.claim_due(
            c, service.cipher, to_ts(clock.now()), 10, ("whatsapp",)))
        assert [r.template for r in claimed] == [True]
        out = service.sender.outgoing(claimed[0])
        part = channel.parts(out)[0]  # what the crashed try had done: it went, then we died
        await channel._create(channel.recipient(PERSON), channel._content(out, part, True))
        made = len(fake.to(WA))
        await service.sender.recover()  # on restart: Twilio holds it, so it is not resent
        await flush(service)
        held = await rows(service, "SELECT status, error FROM outbox WHERE person_id = ?"
                                   " AND status = 'held'", person)
    assert len(fake.to(WA)) == made
    assert held == [("held", "awaiting reply")]


async def test_a_reply_while_the_template_goes_lets_the_message_follow(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with started_whatsapp(service, fake):
        await person_gone_quiet(service, clock)
        claimed = await service.db.write(lambda c: outbox.claim_due(
            c, service.cipher, to_ts(clock.now()), 10, ("whatsapp",)))
        assert [r.template for r in claimed] == [True]
        clock.advance_to(clock.now() + timedelta(seconds=1))
        # they write on their own while the template is on its way
        await service.runtime.handle(Inbound("whatsapp", PERSON, "SM" + "b" * 32, "hi"))
        await service.sender._deliver(claimed)
        await flush(service)
        statuses = await rows(service, "SELECT status FROM outbox WHERE id = ?", claimed[0].id)
    bodies = [m["body"] for m in fake.to(WA)]
    assert bodies.count(TEMPLATE_BODY) == 1 and "News for you." in bodies
    assert statuses == [("sent",)]
