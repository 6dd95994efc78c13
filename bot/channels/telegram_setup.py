"""Setting python-telegram-bot up as our transport: the Application, per-chat order, menu.

Kept apart from the adapter (bot.channels.telegram) so that module stays about messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseUpdateProcessor

from bot.channels.telegram_http import AiohttpRequest
from bot.config import Settings
from bot.i18n import DEFAULT_LOCALE, LOCALES, N_, MissingCatalog, gettext

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]
# channel posts and my_chat_member too: added to a group or channel, the bot leaves at once
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "channel_post",
                   "edited_channel_post", "my_chat_member")
COMMANDS = (
    ("start", N_("Start, or carry on")),
    ("help", N_("Help and phone numbers")),
    ("withdraw", N_("Stop taking part")),
    ("pause", N_("Pause messages")),
    ("resume", N_("Turn messages back on")),
    ("language", N_("Change language")),
)


class ChatOrder(BaseUpdateProcessor):
    """Updates from one chat one after another, different chats at the same time."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] += 1
        try:
            async with lock:  # asyncio.Lock is FIFO: updates keep their arrival order
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def build_application(settings: Settings) -> App:
    """The PTB Application: no JobQueue, rate limited, per-chat order, our base URL."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .job_queue(None)
        # the Bot API allows about 30 messages a second overall (TELEGRAM_SEND_RATE)
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_send_rate))
        .concurrent_updates(ChatOrder())
        # Bot API calls over keep-alive aiohttp connections, waited for when all are busy
        # (bot.channels.telegram_http: httpx cost more than the rest of a send)
        .request(AiohttpRequest(connection_pool_size=8, pool_timeout=10.0))
    )
    if settings.telegram_api_base:
        builder = builder.base_url(settings.telegram_api_base)
    if settings.telegram_mode != "polling":
        builder = builder.updater(None)
    app: App = builder.build()
    return app


async def register_commands(bot: Bot) -> None:
    """The commands menu in each shipped language (the default menu in the source language)."""
    await bot.set_my_commands(_commands(DEFAULT_LOCALE))
    for locale in LOCALES:
        try:
            commands = _commands(locale)
        except MissingCatalog:
            log.warning("telegram: no catalog for %s; its menu falls back to the default", locale)
            continue
        await bot.set_my_commands(commands, language_code=locale.split("_")[0])


def _commands(locale: str) -> list[BotCommand]:
    return [BotCommand(name, gettext(locale, text)) for name, text in COMMANDS]


async def set_webhook(settings: Settings) -> str:
    """Point Telegram at our webhook with the secret token, and register the commands menu."""
    if not settings.public_url:
        raise ValueError("RJBOT_PUBLIC_URL is not set")
    url = f"{settings.public_url}/webhooks/telegram"
    bot = Bot(settings.telegram_bot_token,
              base_url=settings.telegram_api_base or "https://api.telegram.org/bot")
    async with bot:
        await bot.set_webhook(url, secret_token=settings.telegram_webhook_secret,
                              allowed_updates=list(ALLOWED_UPDATES))
        await register_commands(bot)
    return url
