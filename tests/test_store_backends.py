"""The whole service on each back end: a conversation through the runtime, a signed SMS
through the ASGI app, and `rjbot serve` on PostgreSQL answering a webhook."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.channels.console import ConsoleChannel
from bot.clock import VirtualClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.runtime import Inbound
from bot.service import Service
from bot.store import audit
from bot.store.backends import is_postgres
from tests.conftest import START
from tests.console_kit import console
from tests.fakes import twilio_api
from tests.fakes.twilio_api import AUTH_TOKEN
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL, inbound_form, post_sms, twilio_settings
from tests.serve_kit import served


def settings_for(backend: Path | str) -> Settings:
    if is_postgres(backend):
        return Settings(database_url=str(backend), data_key=new_key_text())
    return Settings(database=Path(backend), data_key=new_key_text())


async def test_a_conversation_runs_and_is_kept_on_each_back_end(backend: Path | str) -> None:
    sent: list[dict[str, object]] = []
    channels = {n: ConsoleChannel(n, sent.append) for n in ("sms", "telegram")}
    settings = settings_for(backend)
    service = await Service.open(settings, VirtualClock(START), channels)
    try:
        await service.runtime.handle(Inbound("sms", PERSON, "SM0", "hello"))
        await service.sender.send_due()
        first = len(sent)
        await service.runtime.handle(Inbound("sms", PERSON, "SM0", "hello"))  # re-delivered
        await service.sender.send_due()
        assert len(sent) == first
        await service.runtime.handle(Inbound("sms", PERSON, "SM1", "Ada"))
        await service.sender.send_due()
    finally:
        await service.close()
    assert first >= 2 and len(sent) > first
    # a new instance on the same store carries on where the first left off
    service = await Service.open(settings, VirtualClock(START), channels)
    try:
        counts = await service.db.read(lambda c: tuple(c.execute(
            "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM inbound),"
            " (SELECT count(*) FROM messages WHERE direction = 'in'),"
            " (SELECT count(*) FROM outbox WHERE status = 'sent')").fetchone()))
        verdict = await service.db.read(audit.verify)
    finally:
        await service.close()
    assert counts == (1, 2, 2, len(sent))
    assert verdict.ok


async def test_a_signed_sms_through_the_app_on_each_back_end(backend: Path | str) -> None:
    async with twilio_api.running() as fake:
        settings = twilio_settings(settings_for(backend), fake)
        async with console(settings, base_url=PUBLIC_URL) as (app, client):
            form = inbound_form(PERSON, "hello there")
            response = await post_sms(client, form)
            assert response.status_code == 200
            await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
            again = await post_sms(client, form)  # Twilio delivers it again
            assert again.status_code == 200
            await asyncio.sleep(0.5)
            db = app.state.service.db
            inbound = await db.read(lambda c: c.execute("SELECT count(*) FROM inbound")
                                    .fetchone()[0])
    assert inbound == 1
    sent = fake.to(PERSON)
    assert len(sent) == 2 and sent[0]["body"].startswith("Hello. This is an automated assistant")


async def test_rjbot_serve_on_postgresql_answers_a_webhook(tmp_path: Path, pg_url: str) -> None:
    async with asyncio.timeout(60), served(tmp_path, database=pg_url) as server, \
            httpx.AsyncClient(base_url=server.base, timeout=5) as client:
        url = server.base + "/webhooks/twilio/sms"
        form = twilio_api.inbound_form(PERSON, "hello from the test")
        signed = {"X-Twilio-Signature": twilio_api.sign(AUTH_TOKEN, url, form)}
        answer = await client.post(url, data=form, headers=signed)
        assert answer.status_code == 200 and "<Response/>" in answer.text
        await server.twilio.wait_for(lambda: len(server.twilio.to(PERSON)) >= 2, 15)
    log = (tmp_path / "serve.log").read_text()
    assert "PostgreSQL" in log or "postgresql" in log
    assert "hello from the test" not in log and PERSON not in log
    assert not (tmp_path / "serve.sqlite3").exists()  # nothing went to an SQLite file
