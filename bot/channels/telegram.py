"""Telegram through python-telegram-bot, used as transport only: our store holds all state.

Updates arrive by webhook (bot.channels.telegram_routes) or long polling, go through one
handler that turns them into `Inbound`s for the runtime, and are processed in order per chat
and in parallel across chats (`ChatOrder`). Replies leave only from the outbox, via `send`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import warnings
from datetime import timedelta
from typing import Any, Protocol

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import LINK_INVALID, LINKED, Failed, Outgoing, Retry, SendResult, Sent
from bot.channels.parts import steps
from bot.channels.segments import split_fitting
from bot.channels.telegram_setup import (
    ALLOWED_UPDATES,
    App,
    build_application,
    register_commands,
)
from bot.config import Settings
from bot.i18n import DEFAULT_LOCALE, LOCALES, MissingCatalog, render
from bot.runtime import Inbound, LinkResult
from bot.types import ChannelName, Msg, Reply

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # UTF-16 code units per message, the Bot API's limit
ELSEWHERE = frozenset({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})


class Inbox(Protocol):
    """What the channel hands updates to (the runtime)."""

    async def handle(self, inbound: Inbound) -> object: ...

    async def link(self, inbound: Inbound, code: str, welcome: Reply) -> LinkResult: ...

    async def risk_elsewhere(self, inbound: Inbound, where: str) -> object: ...



POLL_RETRY_MAX = 30.0  # seconds between tries to store a polled update


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Long texts as several messages, cut at a paragraph, line or word where possible."""
    return split_fitting(text, lambda t: _units(t) <= limit)


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # the int form is deprecated; accept either form
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError) -> SendResult:
    """What the outbox should do about a Bot API error."""
    if isinstance(exc, RetryAfter):
        return Retry("rate limited", after=_seconds(exc))
    if isinstance(exc, Forbidden):
        if "initiate conversation" in exc.message.lower():  # met in a group, never wrote to us
            return Failed("has not started a chat with us", undeliverable=True)
        return Failed("blocked by the person", opted_out=True)  # or deleted their account
    if isinstance(exc, ChatMigrated):
        return Failed("chat migrated", undeliverable=True)
    if isinstance(exc, BadRequest):  # a NetworkError subclass: check it first
        if "chat not found" in exc.message.lower():
            return Failed("chat not found", undeliverable=True)
        return Failed("bad request")
    if isinstance(exc, NetworkError):  # includes TimedOut
        return Retry(type(exc).__name__)
    return Retry(type(exc).__name__)


def locale_of(update: Update) -> str:
    """The shipped locale closest to the person's Telegram language (replies outside a case)."""
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    lang = code.replace("-", "_").split("_")[0].lower()
    return next((loc for loc in LOCALES if loc.split("_")[0] == lang), DEFAULT_LOCALE)


def render_safe(msg: Msg, locale: str) -> str:
    try:
        return render(msg, locale)
    except MissingCatalog:
        return render(msg, DEFAULT_LOCALE)


class TelegramChannel:
    name: ChannelName = "telegram"

    def __init__(self, app: App, inbox: Inbox, polling: bool = False) -> None:
        self.app = app
        self.inbox = inbox
        self.polling = polling
        self._progress: dict[int, int] = {}  # outbox id -> parts already delivered
        app.add_handler(TypeHandler(Update, self._on_polled))
        app.add_error_handler(self._on_error)

    @classmethod
    def from_settings(cls, settings: Settings, inbox: Inbox) -> TelegramChannel:
        return cls(build_application(settings), inbox, settings.telegram_mode == "polling")

    async def start(self) -> None:
        """Inside our loop: initialise (getMe), menu, start; poll when there is no webhook."""
        try:
            await self.app.initialize()
        except BaseException:  # getMe failed: the app is not "initialized", so its shutdown
            await self.app.bot.request.shutdown()  # would not close our HTTP session
            raise
        try:
            await register_commands(self.app.bot)
        except TelegramError as exc:
            log.warning("telegram: could not set the commands menu (%s)", type(exc).__name__)
        await self.app.start()
        if self.polling and self.app.updater is not None:
            await self.app.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def receive(self, body: dict[str, Any]) -> bool:
        """Apply a webhook update in chat order; returns once it is committed.

        The webhook answers only after this, so a crash or a failed commit leaves Telegram
        to send the update again (DESIGN: acknowledge after commit); a re-delivery is dropped
        by update id. False (logged) if python-telegram-bot cannot read the body.
        """
        try:
            update = Update.de_json(body, self.app.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            kinds = ",".join(k for k in body if k != "update_id")
            log.warning("telegram update %s unreadable (%s): %s", body.get("update_id"),
                        type(exc).__name__, kinds)
            return False
        # straight to our handler inside PTB's per-chat processor, so errors reach the caller
        await self.app.update_processor.process_update(update, self._on_update(update, None))
        return True

    def link_url(self, code: str) -> str:
        return f"https://t.me/{self.app.bot.username}?start={code}"

    async def send(self, out: Outgoing) -> SendResult:
        """Choices as inline buttons (on the last part); a retry resumes after the parts sent."""
        parts = [piece for step in steps(out.text) for piece in split_text(step)]
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=payload)] for payload, label in out.choices]
        ) if out.choices else None
        provider_id = ""
        try:
            for number in range(self._progress.get(out.outbox_id, 0), len(parts)):
                last = number == len(parts) - 1
                sent = await self.app.bot.send_message(
                    chat_id=int(out.address), text=parts[number],
                    reply_markup=markup if last else None,
                )
                self._progress[out.outbox_id] = number + 1
                provider_id = str(sent.message_id)
        except TelegramError as exc:
            log.info("telegram send outbox %d: %s", out.outbox_id, type(exc).__name__)
            result = classify(exc)
            if isinstance(result, Failed):
                self._progress.pop(out.outbox_id, None)
            return result
        except ValueError:
            return Failed("not a chat id", undeliverable=True)
        self._progress.pop(out.outbox_id, None)
        return Sent(provider_id)

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None  # the Bot API cannot tell whether an earlier send arrived

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("telegram handler failed: %s", type(context.error).__name__)

    async def _on_polled(self, update: Update, context: Any) -> None:
        """A polled update is confirmed to Telegram when it is fetched, so it cannot be left
        for a re-delivery: if it cannot be stored (database locked, disk full), keep trying,
        holding that chat's later updates behind it, until it is stored or we shut down."""
        delay = 0.5
        while True:
            try:
                await self._on_update(update, context)
                return
            except (sqlite3.Error, OSError) as exc:
                log.warning("telegram update %s not stored (%s); trying again in %.1f s",
                            update.update_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, POLL_RETRY_MAX)

    async def _on_update(self, update: Update, context: Any) -> None:
        """Every update: ours to interpret; an unfamiliar kind is logged and left alone."""
        posted = (update.message or update.edited_message or update.channel_post
                  or update.edited_channel_post)
        chat = update.effective_chat
        if chat is not None and chat.type != ChatType.PRIVATE:
            await self._on_elsewhere(update, chat.id, chat.type, posted)
        elif update.callback_query is not None:
            await self._on_button(update)
        elif update.message is not None:
            await self._on_message(update, update.message)
        elif update.edited_message is not None:
            await self._on_edit(update, update.edited_message)
        else:
            kinds = [k for k in update.to_dict() if k != "update_id"]
            log.info("telegram update %d ignored: %s", update.update_id, ",".join(kinds))

    async def _on_message(self, update: Update, msg: Message) -> None:
        uid, address = str(update.update_id), str(msg.chat.id)
        text = msg.text
        if text is None:
            if msg.effective_attachment is None:  # a service message: nothing to answer
                return
            await self.inbox.handle(Inbound(self.name, address, uid, signal="media"))
            if msg.caption:  # a caption is text the person wrote: read it (risk words too)
                await self.inbox.handle(Inbound(self.name, address, uid + ".caption",
                                                msg.caption))
            return
        command, _, code = text.strip().partition(" ")
        if command == "/start" and code.strip():
            await self._on_link(update, msg, code.strip())
            return
        await self.inbox.handle(Inbound(self.name, address, uid, text))

    async def _on_link(self, update: Update, msg: Message, code: str) -> None:
        inbound = Inbound(self.name, str(msg.chat.id), str(update.update_id), "/start")
        result = await self.inbox.link(inbound, code, Reply(LINKED))
        if result == "invalid":
            await self._say(msg.chat.id, LINK_INVALID, locale_of(update))

    async def _on_button(self, update: Update) -> None:
        """Answer the press, route it as that choice, and take the keyboard away."""
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("telegram answerCallbackQuery: %s", type(exc).__name__)
        message = query.message if isinstance(query.message, Message) else None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE or not query.data:
            return
        label = _label(message, query.data)
        await self.inbox.handle(Inbound(self.name, str(chat.id), str(update.update_id),
                                        label, payload=query.data))
        if message is not None and message.reply_markup is not None:
            try:
                await message.edit_reply_markup(reply_markup=None)
            except TelegramError as exc:
                log.info("telegram editMessageReplyMarkup: %s", type(exc).__name__)

    async def _on_edit(self, update: Update, msg: Message) -> None:
        """An edit is read for danger (the engine answers anything else with a short note)."""
        if msg.chat.type == ChatType.PRIVATE and (msg.text or msg.caption):
            await self.inbox.handle(Inbound(self.name, str(msg.chat.id), str(update.update_id),
                                            msg.text or msg.caption or "", edited=True))

    async def _on_elsewhere(self, update: Update, chat_id: int, kind: str,
                            msg: Message | None) -> None:
        """A group, supergroup or channel: leave without a word (a reply would reach everyone
        there), but what may mean danger still raises an alert for the team."""
        if kind in ELSEWHERE:
            try:
                await self.app.bot.leave_chat(chat_id)
            except TelegramError as exc:
                log.info("telegram leaveChat: %s", type(exc).__name__)
        text = (msg.text or msg.caption) if msg is not None else None
        if msg is None or not text:
            return
        sender = msg.from_user
        address = sender.id if sender is not None and not sender.is_bot else chat_id
        await self.inbox.risk_elsewhere(
            Inbound(self.name, str(address), str(update.update_id), text), str(kind))

    async def _say(self, chat_id: int, text: Msg, locale: str) -> None:
        """A reply outside any case (no person behind it): straight out, not via the outbox."""
        try:
            await self.app.bot.send_message(chat_id=chat_id, text=render_safe(text, locale))
        except TelegramError as exc:
            log.info("telegram direct reply: %s", type(exc).__name__)


def _label(message: Message | None, data: str) -> str:
    """The text of the pressed button, for the message log (the payload if it is gone)."""
    markup = message.reply_markup if message is not None else None
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return data


