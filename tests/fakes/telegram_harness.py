"""Run the real TelegramChannel (python-telegram-bot Application) against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.service import Service
from tests.fakes.telegram_api import TOKEN, FakeBotAPI

SECRET = "s3cret-token_for-tests"


def telegram_settings(base: Settings, fake: FakeBotAPI, mode: str = "webhook") -> Settings:
    from dataclasses import replace

    return replace(base, telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET,
                   telegram_api_base=fake.base_url, telegram_mode=mode)


@contextlib.asynccontextmanager
async def started(service: Service, fake: FakeBotAPI,
                  mode: str = "webhook") -> AsyncIterator[TelegramChannel]:
    """A started channel wired into the service's sender; always stopped afterwards."""
    channel = TelegramChannel.from_settings(telegram_settings(service.settings, fake, mode),
                                            service.runtime)
    await asyncio.wait_for(channel.start(), 10)
    service.sender.channels["telegram"] = channel
    try:
        yield channel
    finally:
        await asyncio.wait_for(channel.stop(), 10)


async def deliver(service: Service, channel: TelegramChannel, *updates: dict[str, Any]) -> None:
    """Hand updates over as the webhook would, wait until handled, then send the replies."""
    for update in updates:
        await channel.receive(update)
    await settle(service, channel)


async def settle(service: Service, channel: TelegramChannel) -> None:
    await asyncio.wait_for(channel.app.update_queue.join(), 10)
    async with asyncio.timeout(10):
        while await service.sender.send_due():
            pass
