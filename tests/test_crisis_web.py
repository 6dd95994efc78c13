"""Danger and unanswered messages through the real webhooks: signed Twilio forms and Telegram
updates in, the safety reply out at the fake providers on the same turn, alerts stored."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import console
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import SECRET, telegram_settings
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL, inbound_form, post_sms, twilio_settings

CHAT = 777123
DANGER = "I want to kill myself"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


async def rows(app: Starlette, sql: str) -> list[Any]:
    return list(await app.state.service.db.read(lambda c: c.execute(sql).fetchall()))


async def alerts(app: Starlette) -> list[tuple[str, int | None, dict[str, Any]]]:
    found = await rows(app, "SELECT kind, case_id, data FROM alerts ORDER BY id")
    return [(r[0], r[1], json.loads(r[2])) for r in found]


async def sms(client: Any, text: str, **extra: str) -> None:
    response = await post_sms(client, {**inbound_form(PERSON, text), **extra})
    assert response.status_code == 200


async def settle(app: Starlette) -> None:
    async with asyncio.timeout(10):
        while (await rows(app, "SELECT count(*) FROM outbox WHERE status IN"
                               " ('pending', 'sending')"))[0][0]:
            await app.state.service.sender.send_due()
            await asyncio.sleep(0.01)


async def test_danger_at_a_question_gets_999_on_the_same_turn_and_a_linked_alert(
        settings: Settings, twilio: FakeTwilioAPI, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with console(twilio_settings(settings, twilio), base_url=PUBLIC_URL) as (app, client):
            await sms(client, "hello")
            await settle(app)
            before = len(twilio.to(PERSON))
            await sms(client, DANGER)
            await twilio.wait_for(lambda: len(twilio.to(PERSON)) > before)
            await settle(app)
            found = await alerts(app)
            logged = await rows(app, "SELECT id FROM messages WHERE direction = 'in'"
                                     " ORDER BY id")
    answer = twilio.to(PERSON)[before:]
    assert len(answer) == 1 and "999" in answer[0]["body"] and "116 123" in answer[0]["body"]
    kinds = [k for k, _, _ in found]
    assert kinds == ["new_contact", "risk"]
    _, case, data = found[1]
    assert case == 1 and data["message"] == logged[-1][0] and data["category"]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert DANGER not in text and PERSON not in text


async def test_after_stop_danger_still_raises_an_alert_that_says_they_cannot_be_texted(
        settings: Settings, twilio: FakeTwilioAPI) -> None:
    async with console(twilio_settings(settings, twilio), base_url=PUBLIC_URL) as (app, client):
        await sms(client, "hello")
        await settle(app)
        await sms(client, "STOP", OptOutType="STOP")
        before = len(twilio.to(PERSON))
        await sms(client, DANGER)
        await settle(app)
        found = await alerts(app)
    assert len(twilio.to(PERSON)) == before  # Twilio would refuse it: nothing is sent
    risk = [d for k, _, d in found if k == "risk"]
    assert risk and risk[0]["cannot_text"] is True


async def test_a_message_that_answers_nothing_reaches_the_team_and_the_reply_says_so(
        settings: Settings, twilio: FakeTwilioAPI) -> None:
    async with console(twilio_settings(settings, twilio), base_url=PUBLIC_URL) as (app, client):
        await sms(client, "hello")
        await settle(app)
        before = len(twilio.to(PERSON))
        await sms(client, "is anyone there? nobody has called me")
        await twilio.wait_for(lambda: len(twilio.to(PERSON)) >= before + 2)
        await settle(app)
        found = await alerts(app)
    bodies = [m["body"] for m in twilio.to(PERSON)[before:]]
    assert bodies[0].startswith("Thank you. I have passed your message to our team.")
    assert bodies[1].startswith("Question 1 of 6")  # and the question again
    assert [k for k, _, _ in found] == ["new_contact", "message"]


async def test_a_telegram_edit_that_means_danger_gets_the_safety_reply(
        settings: Settings, bot_api: FakeBotAPI) -> None:
    async with console(telegram_settings(settings, bot_api),
                       base_url="http://rjbot.test") as (app, client):
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for update in (text_update(CHAT, "hello"),
                       text_update(CHAT, "fine", kind="edited_message"),
                       text_update(CHAT, DANGER, kind="edited_message")):
            response = await client.post("/webhooks/telegram", json=update, headers=headers)
            assert response.status_code == 200
        await bot_api.wait_for(lambda: any("999" in m["text"] for m in bot_api.sent))
        await app.state.telegram.app.update_queue.join()
        found = await alerts(app)
    texts = [m["text"] for m in bot_api.sent if m["chat"]["id"] == CHAT]
    assert texts[2].startswith("I can only read new messages")  # an ordinary edit
    assert "999" in texts[3]
    assert [k for k, _, _ in found] == ["new_contact", "risk"]
