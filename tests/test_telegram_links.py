"""Deep links: a person who came by SMS continues the same case in a Telegram chat."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.channels.telegram import TelegramChannel
from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import links
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import deliver, started

PHONE = "+447700900123"
CHAT = 5550001
OTHER_CHAT = 5550002


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


@pytest.fixture
async def channel(service: Service, fake: FakeBotAPI) -> AsyncIterator[TelegramChannel]:
    async with started(service, fake) as ch:
        yield ch


async def sms_person(service: Service) -> int:
    """Someone who texted us and is half-way through first contact."""
    applied = await service.runtime.handle(Inbound("sms", PHONE, "SM1", "hello"))
    assert applied is not None
    while await service.sender.send_due():
        pass
    return applied.person_id


async def new_code(service: Service, person_id: int) -> str:
    now = to_ts(service.runtime.clock.now())
    return await service.db.write(lambda c: links.create(c, service.cipher, person_id, now))


async def rows(service: Service, sql: str, *args: Any) -> list[Any]:
    return await service.db.read(lambda c: [tuple(r) for r in c.execute(sql, args)])


def texts(fake: FakeBotAPI, chat: int) -> list[str]:
    return [s["text"] for s in fake.called("sendMessage") if s["chat_id"] == str(chat)]


async def test_start_with_code_continues_the_same_case_on_telegram(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI, sent: list[dict[str, Any]]
) -> None:
    person = await sms_person(service)
    sms_before = len(sent)
    code = await new_code(service, person)
    await deliver(service, channel, text_update(CHAT, f"/start {code}"))
    assert texts(fake, CHAT) == [
        "You are now connected here. From now on our messages will come to this chat. "
        "You can send MENU, PAUSE or WITHDRAW at any time."]
    owners = await rows(service, "SELECT channel, person_id FROM addresses ORDER BY id")
    assert owners == [("sms", person), ("telegram", person)]
    assert await rows(service, "SELECT kind FROM alerts WHERE kind = 'channel_linked'") == [
        ("channel_linked",)]
    # the conversation carries on where the SMS left it: question 1 is answered here
    await deliver(service, channel, text_update(CHAT, "1"))
    assert texts(fake, CHAT)[-1].startswith("Question 2 of 6")
    assert len(sent) == sms_before  # nothing more went by SMS
    assert await rows(service, "SELECT count(*) FROM people") == [(1,)]


async def test_a_code_works_once(service: Service, channel: TelegramChannel,
                                 fake: FakeBotAPI) -> None:
    person = await sms_person(service)
    code = await new_code(service, person)
    first = text_update(CHAT, f"/start {code}")
    await deliver(service, channel, first, first)  # Telegram re-delivers: still one welcome
    assert len(texts(fake, CHAT)) == 1
    await deliver(service, channel, text_update(OTHER_CHAT, f"/start {code}"))
    assert texts(fake, OTHER_CHAT) == [
        "Sorry, this link cannot be used. It may have expired or been used already. "
        "Ask our team for a new link, or send a message to start."]
    assert await rows(service, "SELECT count(*) FROM addresses WHERE channel = 'telegram'") == [
        (1,)]
    assert await rows(service, "SELECT count(*) FROM audit WHERE action = 'link_code_refused'"
                      ) == [(1,)]


async def test_expired_unknown_and_replaced_codes_link_nothing(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI, clock: VirtualClock
) -> None:
    person = await sms_person(service)
    old = await new_code(service, person)
    replaced_by = await new_code(service, person)
    await deliver(service, channel, text_update(CHAT, f"/start {old}"))
    await deliver(service, channel, text_update(CHAT, "/start not-a-real-code"))
    clock.advance_to(clock.now() + links.LINK_TTL + timedelta(seconds=1))
    await deliver(service, channel, text_update(CHAT, f"/start {replaced_by}"))
    assert len(texts(fake, CHAT)) == 3
    assert all(t.startswith("Sorry, this link cannot be used") for t in texts(fake, CHAT))
    assert await rows(service, "SELECT count(*) FROM addresses WHERE channel = 'telegram'") == [
        (0,)]


async def test_sharing_the_same_phone_number_does_not_link(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    person = await sms_person(service)
    contact = {"update_id": 77, "message": {
        "message_id": 77, "date": int(time.time()), "from": telegram_api.user(CHAT),
        "chat": telegram_api.private_chat(CHAT),
        "contact": {"phone_number": PHONE, "first_name": "Test", "user_id": CHAT}}}
    await deliver(service, channel, contact)
    owners = dict(await rows(service, "SELECT channel, person_id FROM addresses"))
    assert owners["sms"] == person and owners["telegram"] != person
    assert "only read text" in texts(fake, CHAT)[0]


async def test_codes_are_stored_only_as_keyed_hashes(service: Service) -> None:
    person = await sms_person(service)
    code = await new_code(service, person)
    dump = "\n".join(await service.db.read(lambda c: list(c.iterdump())))
    assert code not in dump
    with pytest.raises(LookupError):
        await service.db.write(lambda c: links.create(c, service.cipher, 999, 0.0))
