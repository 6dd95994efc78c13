"""One person on SMS and Telegram at once (linked by a deep link), both webhooks hit
concurrently: each channel's messages are applied in the order that channel delivered them,
each is answered from the state all earlier ones left (as the pure engine would answer that
sequence), on the channel it came from, and each channel sends its replies in order."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot import engine
from bot.i18n import render
from bot.privacy import sealed
from bot.scheduler.windows import timezone_of
from bot.service import Service
from bot.store import links, records
from bot.types import Message, State
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import text_update
from tests.fakes.twilio_api import inbound_form
from tests.serve_kit import deliver, telegram_request
from tests.test_provider_faults import PUBLIC, app_on, chat, sms_post

PHONE, CHAT = "+447700900601", 66001
SMS_TEXTS = ["1", "2", "help", "1", "menu", "1"]
TELEGRAM_TEXTS = ["Robin", "what?", "2", "person", "1", "hello"]


def conversation(service: Service, person: int, after: int) -> list[tuple[str, str, str]]:
    """(direction, channel, text) of every message logged after message id `after`."""
    conn = sqlite3.connect(service.settings.database)
    try:
        rows = conn.execute("SELECT direction, channel, body_enc, id FROM messages"
                            " WHERE person_id = ? AND id > ? ORDER BY id",
                            (person, after)).fetchall()
    finally:
        conn.close()
    return [(d, c, sealed.open_in(service.cipher, b, "messages", "body_enc",
                                  {"id": i, "person_id": person})) for d, c, b, i in rows]


def replay(state: State, log: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """What the pure engine says to the stored inbound sequence, as the log would hold it."""
    out: list[tuple[str, str, str]] = []
    now = datetime.now(UTC)
    for direction, channel, text in log:
        if direction != "in":
            continue
        step = engine.step(state, Message(text, channel), now)  # type: ignore[arg-type]
        state = step.state
        out.append(("in", channel, text))
        out += [("out", channel, render(r.text, state.locale, timezone_of(state)))
                for r in step.replies]
    return out


async def test_both_webhooks_at_once_keep_one_persons_order(tmp_path: Path) -> None:
    async with asyncio.timeout(60), telegram_api.running() as tg, twilio_api.running() as tw, \
            app_on(tmp_path, tg, tw) as app, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC) as client:
        service: Service = app.state.service
        await deliver(client, sms_post(inbound_form(PHONE, "hello")))
        found = await service.db.read(
            lambda c: records.find_address(c, service.cipher, "sms", PHONE))
        assert found is not None
        person = found[0]
        code = await service.db.write(
            lambda c: links.create(c, service.cipher, person, datetime.now(UTC).timestamp()))
        await deliver(client, telegram_request(text_update(CHAT, f"/start {code}")))
        await tg.wait_for(lambda: len(chat(tg, CHAT)) == 1)
        await tw.wait_for(lambda: len(tw.to(PHONE)) == 2)
        state, _ = await service.db.read(lambda c: records.load_state(c, service.cipher, person))
        last = await service.db.read(
            lambda c: c.execute("SELECT max(id) FROM messages").fetchone()[0])

        async def channel(requests: list[dict[str, Any]]) -> None:
            for request in requests:
                await deliver(client, request)

        await asyncio.gather(
            channel([sms_post(inbound_form(PHONE, t)) for t in SMS_TEXTS]),
            channel([telegram_request(text_update(CHAT, t)) for t in TELEGRAM_TEXTS]))
        log = conversation(service, person, last)
        replies = [x for x in log if x[0] == "out"]
        await tw.wait_for(lambda: len(tw.to(PHONE)) == 2 + sum(c == "sms" for _, c, _ in replies))
        await tg.wait_for(
            lambda: len(chat(tg, CHAT)) == 1 + sum(c == "telegram" for _, c, _ in replies))

    assert [t for d, c, t in log if d == "in" and c == "sms"] == SMS_TEXTS
    assert [t for d, c, t in log if d == "in" and c == "telegram"] == TELEGRAM_TEXTS
    channels = [c for d, c, _ in log if d == "in"]
    assert "sms" in channels[channels.index("telegram"):], "the channels never interleaved"
    assert log == replay(state, log), "a message was answered from a stale state"
    sms_sent = [m["body"] for m in tw.to(PHONE)][2:]
    tg_sent = chat(tg, CHAT)[1:]
    assert all(b.startswith(t) for b, (_, _, t) in
               zip(sms_sent, [r for r in replies if r[1] == "sms"], strict=True))
    assert all(s.startswith(t) for s, (_, _, t) in
               zip(tg_sent, [r for r in replies if r[1] == "telegram"], strict=True))
