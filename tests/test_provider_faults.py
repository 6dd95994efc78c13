"""Providers failing 30% of sends, through the served app (webhooks in, sender out): every
reply still reaches each person exactly once and in order.

Twilio fails with 500s, requests that time out before the message is made and requests that
time out after it was made (the send is in doubt: the retry asks Twilio first). Telegram fails
with 5xx answers (a Telegram send that times out after delivery cannot be checked, so it is not
part of the exactly-once promise; see README). Retry backoff is shortened to keep the test fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot import sender
from bot.channels.twilio_sms import TwilioChannel
from bot.config import Settings
from bot.web import create_app
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import telegram_settings
from tests.fakes.twilio_api import FakeTwilioAPI, Faults, inbound_form
from tests.fakes.twilio_harness import twilio_settings
from tests.flowkit import OPEN_CASE
from tests.serve_kit import KEY, SMS_PATH, deliver, telegram_request

SCRIPT = OPEN_CASE[:5]
REPLIES = 6  # two for the greeting, then one a turn
PHONES = [f"+4477009004{n:02d}" for n in range(4)]
CHATS = [88000 + n for n in range(4)]
PUBLIC = "https://rj.example.org"


class FlakyBotAPI(FakeBotAPI):
    """The fake Bot API, answering 30% of sendMessage calls with a 5xx (nothing sent)."""

    failed = 0
    rng = random.Random(11)

    async def endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["method"] == "sendMessage" and self.rng.random() < 0.3:
            self.failed += 1
            return JSONResponse({"ok": False, "error_code": 502, "description": "Bad Gateway"},
                                status_code=502)
        return await super().endpoint(request)


@contextlib.asynccontextmanager
async def app_on(tmp: Path, tg: FakeBotAPI, tw: FakeTwilioAPI) -> AsyncIterator[Starlette]:
    base = Settings(database=tmp / "faults.sqlite3", data_key=KEY, synchronous="NORMAL")
    settings = telegram_settings(twilio_settings(base, tw, public_url=PUBLIC), tg)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def sms_post(form: dict[str, str]) -> dict[str, Any]:
    signature = twilio_api.sign(twilio_api.AUTH_TOKEN, PUBLIC + SMS_PATH, form)
    return {"url": SMS_PATH, "data": form, "headers": {"X-Twilio-Signature": signature}}


@pytest.mark.slow
async def test_thirty_percent_failed_sends_still_deliver_every_reply_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "backoff", lambda attempts, hint=None: 0.05 * attempts)
    monkeypatch.setitem(TwilioChannel.__init__.__kwdefaults__, "timeout", 0.5)
    faults = Faults(server_error=0.1, hang=0.1, hang_after_create=0.1, seed=5)
    flaky = FlakyBotAPI()
    async with asyncio.timeout(90), telegram_api.running(flaky) as tg, \
            twilio_api.running(faults=faults, hang_seconds=2.0) as tw, \
            app_on(tmp_path, tg, tw) as app, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC) as client:

        async def person(requests: list[dict[str, Any]]) -> None:
            for request in requests:
                await deliver(client, request)

        await asyncio.gather(
            *(person([sms_post(inbound_form(p, t)) for t in SCRIPT]) for p in PHONES),
            *(person([telegram_request(text_update(c, t)) for t in SCRIPT]) for c in CHATS))
        await tw.wait_for(lambda: all(len(tw.to(p)) >= REPLIES for p in PHONES), 60)
        await tg.wait_for(lambda: all(len(chat(tg, c)) >= REPLIES for c in CHATS), 60)
        await asyncio.sleep(1.0)  # a duplicate would show by now

    assert flaky.failed >= 5 and len(tw.created) > len(PHONES) * REPLIES - 1
    for phone in PHONES:
        bodies = [m["body"] for m in tw.to(phone)]
        assert len(bodies) == REPLIES, f"{len(bodies)} SMS for {REPLIES} replies"
        assert in_order(bodies)
    for c in CHATS:
        texts = chat(tg, c)
        assert len(texts) == REPLIES and in_order(texts)
    conn = sqlite3.connect(tmp_path / "faults.sqlite3")
    statuses = conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    retried = conn.execute("SELECT count(*) FROM outbox WHERE attempts > 1").fetchone()[0]
    conn.close()
    assert statuses == [("sent", REPLIES * (len(PHONES) + len(CHATS)))]
    assert retried >= 5, "the faults did not make the sender retry"


def chat(tg: FakeBotAPI, chat_id: int) -> list[str]:
    return [m["text"] for m in tg.sent if m["chat"]["id"] == chat_id]


def in_order(texts: list[str]) -> bool:
    questions = [t.split(":")[0] for t in texts if t.startswith("Question")]
    return questions == [f"Question {n} of 6" for n in range(1, REPLIES)]
