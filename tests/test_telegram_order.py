"""Updates from one chat are handled in arrival order; different chats at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram.ext import SimpleUpdateProcessor

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_setup import ChatOrder, build_application
from bot.privacy import sealed
from bot.runtime import Inbound, LinkResult, Runtime
from bot.service import Service
from bot.types import ChannelName, Reply
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import telegram_settings


class SlowInbox:
    """The runtime, behind handlers that take longer for earlier messages."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.entered: list[str] = []
        self.b_arrived = asyncio.Event()
        self.a_saw_b = False

    async def handle(self, inbound: Inbound) -> object:
        word, _, number = inbound.text.partition(" ")
        if word == "a-waits":  # chat A holds on until chat B's update is being handled
            try:
                await asyncio.wait_for(self.b_arrived.wait(), 2)
                self.a_saw_b = True
            except TimeoutError:
                self.a_saw_b = False
        elif word == "b-arrives":
            self.b_arrived.set()
        else:
            await asyncio.sleep(0.02 * (10 - int(number)))
        self.entered.append(inbound.text)
        return await self.runtime.handle(inbound)

    async def link(self, inbound: Inbound, code: str, welcome: Reply) -> LinkResult:
        return await self.runtime.link(inbound, code, welcome)

    async def may_message(self, channel: ChannelName, address: str) -> bool:
        return await self.runtime.may_message(channel, address)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


async def run_updates(service: Service, fake: FakeBotAPI, inbox: SlowInbox,
                      updates: list[dict[str, object]], ordered: bool = True) -> None:
    app = build_application(telegram_settings(service.settings, fake))
    if not ordered:  # what `concurrent_updates(True)` alone gives: no per-chat order
        app._update_processor = SimpleUpdateProcessor(256)
    channel = TelegramChannel(app, inbox)
    await channel.start()
    try:
        # concurrent webhook requests: each is answered after its own commit
        await asyncio.wait_for(asyncio.gather(*(channel.receive(u) for u in updates)), 10)
    finally:
        await channel.stop()


async def stored_inbound_texts(service: Service) -> list[str]:
    rows = await service.db.read(lambda c: c.execute(
        "SELECT id, person_id, body_enc FROM messages"
                " WHERE direction = 'in' ORDER BY id").fetchall())
    return [sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r) for r in rows]


async def test_one_chat_is_handled_in_arrival_order(service: Service, fake: FakeBotAPI) -> None:
    inbox = SlowInbox(service.runtime)
    said = [f"m {i}" for i in range(10)]
    await run_updates(service, fake, inbox, [text_update(1, t) for t in said])
    assert inbox.entered == said
    assert await stored_inbound_texts(service) == said


async def test_without_chat_order_the_same_updates_overtake(service: Service,
                                                            fake: FakeBotAPI) -> None:
    """The check above can fail: plain concurrency lets later, faster updates go first."""
    inbox = SlowInbox(service.runtime)
    said = [f"m {i}" for i in range(10)]
    await run_updates(service, fake, inbox, [text_update(1, t) for t in said], ordered=False)
    assert inbox.entered != said


async def test_different_chats_run_at_the_same_time(service: Service, fake: FakeBotAPI) -> None:
    inbox = SlowInbox(service.runtime)
    await run_updates(service, fake, inbox,
                      [text_update(1, "a-waits"), text_update(2, "b-arrives")])
    assert inbox.a_saw_b, "chat 1 blocked chat 2"


def test_chat_order_forgets_idle_chats() -> None:
    processor = ChatOrder()

    async def go() -> None:
        async def nothing() -> None:
            return None

        from telegram import Update

        update = Update.de_json(text_update(9, "x"), None)
        await processor.process_update(update, nothing())

    asyncio.run(go())
    assert processor._locks == {} and not processor._users
