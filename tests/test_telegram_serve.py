"""End to end: `python -m bot serve` in a subprocess, Telegram pointed at the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import SECRET
from tests.serve_kit import served

CHAT = 90210
pytestmark = pytest.mark.slow


def replies(fake: FakeBotAPI) -> list[dict[str, Any]]:
    return [p for p in fake.called("sendMessage") if p["chat_id"] == str(CHAT)]


async def test_serve_answers_a_webhook_update_through_the_bot_api(tmp_path: Path) -> None:
    await serve_and_talk(tmp_path)
    log = (tmp_path / "serve.log").read_text()
    assert "channel telegram: started (webhook)" in log
    for secret in (telegram_api.TOKEN, SECRET, str(CHAT), "hello", "Sam"):
        assert secret not in log, "the log holds a token, a chat id or message text"


async def serve_and_talk(tmp_path: Path) -> None:
    async with served(tmp_path) as server, \
            httpx.AsyncClient(base_url=server.base, timeout=5) as client:
        fake = server.telegram
        url = "/webhooks/telegram"
        update = text_update(CHAT, "hello")
        assert (await client.post(url, json=update)).status_code == 403
        bad = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert (await client.post(url, json=update, headers=bad)).status_code == 403
        await asyncio.sleep(0.5)
        assert replies(fake) == []

        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await client.post(url, json=update, headers=good)).status_code == 200
        await fake.wait_for(lambda: any("reply_markup" in p for p in replies(fake)), 15)
        keyboard = next(p for p in replies(fake) if "reply_markup" in p)["reply_markup"]
        assert keyboard["inline_keyboard"][0] == [
            {"text": "Yes, keep them like that", "callback_data": "first_contact.safe|discreet"}]
        count = len(replies(fake))

        assert (await client.post(url, json=update, headers=good)).status_code == 200
        await asyncio.sleep(1.5)  # time enough for a second reply, were one to be sent
        assert len(replies(fake)) == count == 2

        # and the conversation goes on: the next update gets the next question
        assert (await client.post(url, json=text_update(CHAT, "1"),
                                  headers=good)).status_code == 200
        await fake.wait_for(lambda: len(replies(fake)) == 3, 15)
