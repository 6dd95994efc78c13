"""Telegram through the real ASGI app: webhook (secret token) and polling modes."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import console
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import SECRET, telegram_settings

CHAT = 777001


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


def serving(settings: Settings) -> contextlib.AbstractAsyncContextManager[
        tuple[Starlette, httpx.AsyncClient]]:
    return console(settings, base_url="http://rjbot.test")


def post(client: httpx.AsyncClient, body: Any, secret: str | None = SECRET,
         raw: bytes | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    content = raw if raw is not None else httpx.Request("POST", "/", json=body).content
    return client.post("/webhooks/telegram", content=content, headers=headers)


async def inbound_rows(app: Starlette) -> int:
    db = app.state.service.db
    return int(await db.read(lambda c: c.execute("SELECT count(*) FROM inbound").fetchone()[0]))


def replies_to(fake: FakeBotAPI, chat: int) -> list[dict[str, Any]]:
    return [m for m in fake.sent if m["chat"]["id"] == chat]


async def test_webhook_update_gets_reply_with_buttons(settings: Settings,
                                                      fake: FakeBotAPI) -> None:
    async with serving(telegram_settings(settings, fake)) as (app, client):
        health = (await client.get("/healthz")).json()
        assert health["channels"]["telegram"] == "on"
        update = text_update(CHAT, "hello")
        response = await post(client, update)
        assert response.status_code == 200
        await fake.wait_for(lambda: len(replies_to(fake, CHAT)) >= 2)
        assert replies_to(fake, CHAT)[-1]["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "Yes, keep them like that", "callback_data": "first_contact.safe|discreet"}
        assert (await post(client, update)).status_code == 200  # re-delivered
        await fake.wait_for(lambda: len(fake.called("getMe")) == 1)
        await app.state.telegram.app.update_queue.join()
        await app.state.service.sender.send_due()
        assert len(replies_to(fake, CHAT)) == 2
        assert await inbound_rows(app) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_webhook_refuses_a_wrong_or_missing_secret(settings: Settings, fake: FakeBotAPI,
                                                         secret: str | None) -> None:
    async with serving(telegram_settings(settings, fake)) as (app, client):
        response = await post(client, text_update(CHAT, "hello"), secret=secret)
        assert response.status_code == 403
        await app.state.telegram.app.update_queue.join()
        assert await inbound_rows(app) == 0
    assert "sendMessage" not in fake.methods()


async def test_webhook_refuses_what_is_not_an_update(settings: Settings,
                                                     fake: FakeBotAPI) -> None:
    async with serving(telegram_settings(settings, fake)) as (app, client):
        assert (await post(client, None, raw=b"{not json")).status_code == 400
        assert (await post(client, [1, 2])).status_code == 400
        assert (await post(client, {"message": {}})).status_code == 400
        assert (await post(client, None, raw=b" " * (2 << 20))).status_code == 413
        assert await inbound_rows(app) == 0


async def test_telegram_off_says_why_and_has_no_route(settings: Settings) -> None:
    async with serving(settings) as (_, client):
        health = (await client.get("/healthz")).json()
        assert health["channels"]["telegram"] == (
            "off: TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET not set")
        assert (await post(client, text_update(CHAT, "hi"))).status_code == 404


async def test_unreachable_bot_api_leaves_the_service_up(settings: Settings) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = replace(settings, telegram_bot_token=telegram_api.TOKEN,
                   telegram_webhook_secret=SECRET, telegram_mode="webhook",
                   telegram_api_base=f"http://127.0.0.1:{port}/bot")
    async with serving(dead) as (_, client):
        health = (await client.get("/healthz")).json()
        assert health["channels"]["telegram"].startswith("off: could not start")
        assert (await post(client, text_update(CHAT, "hi"))).status_code == 503


async def test_polling_mode_fetches_updates_and_replies(settings: Settings,
                                                        fake: FakeBotAPI) -> None:
    update = text_update(CHAT, "hello")
    async with serving(telegram_settings(settings, fake, mode="polling")) as (_, client):
        fake.queue_update(update)
        await fake.wait_for(lambda: len(replies_to(fake, CHAT)) >= 2)
        assert "deleteWebhook" in fake.methods()
        polls = fake.called("getUpdates")
        assert polls[0]["allowed_updates"] == [
        "message", "edited_message", "callback_query", "channel_post",
            "edited_channel_post", "my_chat_member"]
        assert replies_to(fake, CHAT)[-1]["reply_markup"]["inline_keyboard"]
        fake.queue_update(text_update(CHAT + 1, "hello"))
        await fake.wait_for(lambda: len(replies_to(fake, CHAT + 1)) >= 2)
        # the next poll confirms what was fetched (offset past the last update id)
        await fake.wait_for(lambda: any(int(p.get("offset", 0)) > update["update_id"]
                                        for p in fake.called("getUpdates")))
        assert (await post(client, update)).status_code == 404  # no webhook when polling


async def test_an_update_is_acknowledged_only_after_it_is_stored(settings: Settings,
                                                                 fake: FakeBotAPI) -> None:
    """If we cannot store an update, Telegram gets a 5xx and sends it again: nothing is lost."""
    async with serving(telegram_settings(settings, fake)) as (app, client):
        db = app.state.service.db
        await db.write(lambda c: c.execute(
            "CREATE TRIGGER full BEFORE INSERT ON inbound BEGIN"
            " SELECT RAISE(ABORT, 'database or disk is full'); END"))
        update = text_update(CHAT, "hello")
        assert (await post(client, update)).status_code == 503
        assert await inbound_rows(app) == 0
        await db.write(lambda c: c.execute("DROP TRIGGER full"))
        assert (await post(client, update)).status_code == 200  # Telegram's retry
        assert await inbound_rows(app) == 1
        await fake.wait_for(lambda: len(replies_to(fake, CHAT)) >= 2)
        assert len(replies_to(fake, CHAT)) == 2


async def test_polling_keeps_an_update_it_could_not_store_until_it_can(
        settings: Settings, fake: FakeBotAPI) -> None:
    """Polling confirms an update when it is fetched, so a failed store must be retried here
    (there is no re-delivery); the chat's next update waits behind it, in order."""
    async with serving(telegram_settings(settings, fake, mode="polling")) as (app, _):
        db = app.state.service.db
        await db.write(lambda c: c.execute(
            "CREATE TRIGGER full BEFORE INSERT ON inbound BEGIN"
            " SELECT RAISE(ABORT, 'database or disk is full'); END"))
        fake.queue_update(text_update(CHAT, "hello"))
        fake.queue_update(text_update(CHAT, "1"))
        await fake.wait_for(lambda: any(int(p.get("offset", 0)) > 0
                                        for p in fake.called("getUpdates")))
        assert await inbound_rows(app) == 0 and replies_to(fake, CHAT) == []
        await db.write(lambda c: c.execute("DROP TRIGGER full"))
        await fake.wait_for(lambda: len(replies_to(fake, CHAT)) >= 3, timeout=15)
        assert await inbound_rows(app) == 2
        texts = [m["text"] for m in replies_to(fake, CHAT)]
        assert texts[0].startswith("Hello") and texts[2].startswith("Question 2 of 6")
