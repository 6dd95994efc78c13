"""Issue 17 deliverable 6 (logs): whole conversations through the real webhooks, the real
python-telegram-bot and twilio clients and the local fakes, logged at DEBUG by the real set-up
(bot.logsetup): no number, chat id, name, text or token reaches the log."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import logsetup
from bot.config import Settings
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import TOKEN, text_update
from tests.fakes.telegram_harness import SECRET
from tests.fakes.twilio_api import AUTH_TOKEN, inbound_form
from tests.serve_kit import deliver, telegram_request
from tests.test_provider_faults import KEY, PUBLIC, app_on, chat, sms_post

PHONE, CHAT = "+447700900777", 5550123987
NAME, TG_NAME = "Morwenna", "Tregothnan"
ANSWERS = ["hello there", "1", "1", "1", NAME, "1", "2", "2",
           "my neighbour keeps shouting at me", "when will someone ring back"]


def telegram_update(text: str) -> dict[str, Any]:
    update = text_update(CHAT, text)
    update["message"]["from"]["first_name"] = TG_NAME
    update["message"]["chat"]["first_name"] = TG_NAME
    return update


@pytest.fixture
def debug_log() -> Any:
    """The real logging set-up at DEBUG, into a buffer; undone afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    before = root.level, {n: logging.getLogger(n).level for n in logsetup.LIBRARIES}
    handler = logsetup.configure("DEBUG", buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        for name, level in before[1].items():
            logging.getLogger(name).setLevel(level)


def secrets() -> list[str]:
    found = [PHONE, PHONE[3:], "0" + PHONE[3:], str(CHAT), NAME, TG_NAME, TOKEN,
             TOKEN.split(":")[1], AUTH_TOKEN, SECRET, KEY]
    return found + [a for a in ANSWERS if len(a) >= 5]


async def test_debug_logs_of_whole_conversations_hold_nothing_personal(
        tmp_path: Path, debug_log: io.StringIO) -> None:
    async with asyncio.timeout(90), telegram_api.running() as tg, twilio_api.running() as tw, \
            app_on(tmp_path, tg, tw) as app, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC) as client:
        for n, text in enumerate(ANSWERS):
            await deliver(client, sms_post(inbound_form(PHONE, text)))
            await tw.wait_for(lambda n=n: len(tw.to(PHONE)) > n, timeout=20)
            await deliver(client, telegram_request(telegram_update(text)))
            await tg.wait_for(lambda n=n: len(chat(tg, CHAT)) > n, timeout=20)
        await client.get("/healthz")
    logged = debug_log.getvalue()
    assert logging.getLogger("bot.runtime").isEnabledFor(logging.DEBUG)
    assert "DEBUG bot.runtime: inbound telegram applied" in logged, "nothing was logged"
    assert "Question 1 of 6" in "".join(str(m.get("body")) for m in tw.to(PHONE))
    assert any("Question 1 of 6" in t for t in chat(tg, CHAT))
    for secret in secrets():
        assert secret not in logged, f"{secret!r} leaked into the DEBUG log"


def test_library_records_lose_their_data_and_keep_their_level() -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logsetup.LibraryFilter())
    log = logging.getLogger("telegram.ext.ExtBot")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"chat {CHAT} said {ANSWERS[-1]}")
        except RuntimeError:
            log.warning("calling https://api.telegram.org/bot%s/sendMessage to %s for %s",
                        TOKEN, PHONE, "sue@example.org", exc_info=True)
    finally:
        log.removeHandler(handler)
    out = buffer.getvalue()
    assert "(RuntimeError)" in out and "sendMessage" in out
    for secret in (TOKEN, PHONE, PHONE[1:], str(CHAT), ANSWERS[-1], "sue@example.org"):
        assert secret not in out


def test_the_level_setting() -> None:
    assert Settings.from_env({}).log_level == ""
    assert Settings.from_env({"RJBOT_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(ValueError, match="RJBOT_LOG_LEVEL"):
        Settings.from_env({"RJBOT_LOG_LEVEL": "chatty"})
