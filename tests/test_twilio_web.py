"""SMS through the real ASGI app: signed webhooks in, replies at the fake Twilio API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import console
from tests.fakes import twilio_api
from tests.fakes.twilio_api import AUTH_TOKEN, FakeTwilioAPI
from tests.fakes.twilio_harness import (
    PERSON,
    PUBLIC_URL,
    inbound_form,
    post_sms,
    post_status,
    twilio_settings,
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


def serving(settings: Settings) -> contextlib.AbstractAsyncContextManager[
        tuple[Starlette, httpx.AsyncClient]]:
    return console(settings, base_url=PUBLIC_URL)


async def count(app: Starlette, sql: str) -> int:
    db = app.state.service.db
    return int(await db.read(lambda c: c.execute(sql).fetchone()[0]))


async def person(app: Starlette) -> Any:
    db = app.state.service.db
    return await db.read(lambda c: c.execute("SELECT * FROM people").fetchone())


async def drain(app: Starlette) -> None:
    """Until every reply is sent and recorded (the background sender may be mid-batch)."""
    async with asyncio.timeout(10):
        while await count(app, "SELECT count(*) FROM outbox WHERE status IN"
                               " ('pending', 'sending')"):
            await app.state.service.sender.send_due()
            await asyncio.sleep(0.01)


async def test_a_signed_sms_gets_its_replies_through_the_rest_api(
        settings: Settings, fake: FakeTwilioAPI, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with serving(twilio_settings(settings, fake)) as (app, client):
            assert (await client.get("/healthz")).json()["channels"]["sms"] == "on"
            response = await post_sms(client, inbound_form(PERSON, "hello there"))
            assert response.status_code == 200
            assert response.text == EMPTY_TWIML
            assert response.headers["content-type"].startswith("text/xml")
            await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
            await drain(app)
    sent = fake.to(PERSON)
    assert len(sent) == 2
    assert sent[0]["body"].startswith("Hello. This is an automated assistant")
    assert sent[1]["body"].endswith("3. No, it is not safe")
    assert all(m["from"] == twilio_api.FROM_NUMBER for m in sent)
    assert all(m["status_callback"] == PUBLIC_URL + "/webhooks/twilio/status" for m in sent)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records and PERSON not in logged and PERSON[3:] not in logged
    assert "hello there" not in logged and AUTH_TOKEN not in logged


def _forged(form: dict[str, str]) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    altered = {**form, "Body": "something else"}
    return [
        ("unsigned", form, {"signature": ""}),
        ("garbage", form, {"signature": "bm90IGEgc2lnbmF0dXJl"}),
        ("other token", form, {"token": "f" * 32}),
        ("other url", form, {"url": "https://elsewhere.example.org/webhooks/twilio/sms"}),
        ("altered body", altered, {"signature": twilio_api.sign(
            AUTH_TOKEN, PUBLIC_URL + "/webhooks/twilio/sms", form)}),
        ("added field", {**form, "OptOutType": "STOP"}, {"signature": twilio_api.sign(
            AUTH_TOKEN, PUBLIC_URL + "/webhooks/twilio/sms", form)}),
    ]


@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in _forged(inbound_form(
    PERSON, "x"))])
async def test_forged_altered_or_unsigned_is_refused_and_nothing_stored(
        settings: Settings, fake: FakeTwilioAPI, case: int) -> None:
    _, form, how = _forged(inbound_form(PERSON, "hello"))[case]
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, form, **how)).status_code == 403
        assert (await post_status(client, "SM" + "a" * 32, "delivered")).status_code == 204
        forged_status = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "failed"}
        assert (await post_sms(client, forged_status, signature="",
                               path="/webhooks/twilio/status")).status_code == 403
        await drain(app)
        assert await count(app, "SELECT count(*) FROM inbound") == 0
        assert await count(app, "SELECT count(*) FROM people") == 0
        assert await count(app, "SELECT count(*) FROM provider_messages") == 1
    assert fake.created == []


async def test_a_replayed_message_sid_gets_one_reply(settings: Settings,
                                                     fake: FakeTwilioAPI) -> None:
    form = inbound_form(PERSON, "hello")
    async with serving(twilio_settings(settings, fake)) as (app, client):
        for _ in range(3):
            response = await post_sms(client, form)
            assert response.status_code == 200 and response.text == EMPTY_TWIML
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
        await drain(app)
        assert await count(app, "SELECT count(*) FROM inbound") == 1
    assert len(fake.to(PERSON)) == 2


async def test_a_failed_commit_is_a_5xx_and_twilios_retry_is_answered(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        db = app.state.service.db
        await db.write(lambda c: c.execute(
            "CREATE TRIGGER full BEFORE INSERT ON inbound BEGIN"
            " SELECT RAISE(ABORT, 'database or disk is full'); END"))
        form = inbound_form(PERSON, "hello")
        assert (await post_sms(client, form)).status_code == 503
        assert await count(app, "SELECT count(*) FROM inbound") == 0
        await db.write(lambda c: c.execute("DROP TRIGGER full"))
        assert (await post_sms(client, form)).status_code == 200
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
        await drain(app)
    assert len(fake.to(PERSON)) == 2


async def test_stop_is_recorded_across_channels_and_nothing_is_sent(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        await post_sms(client, inbound_form(PERSON, "hello"))
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
        stop = inbound_form(PERSON, "STOP", OptOutType="STOP")
        assert (await post_sms(client, stop)).status_code == 200
        await drain(app)
        row = await person(app)
        assert row["opted_out"] == 1 and row["status"] == "withdrawn"
        assert len(fake.to(PERSON)) == 2  # Twilio answered STOP itself
        # a later message (not a keyword) stays unanswered
        await post_sms(client, inbound_form(PERSON, "hello again"))
        await drain(app)
        assert len(fake.to(PERSON)) == 2
        start = inbound_form(PERSON, "START", OptOutType="START")
        assert (await post_sms(client, start)).status_code == 200
        await drain(app)
        row = await person(app)
        assert row["opted_out"] == 0 and row["status"] == "active"
        assert await count(app, "SELECT count(*) FROM alerts WHERE kind = 'returned'") == 1


async def test_help_is_recorded_and_twilio_alone_answers(settings: Settings,
                                                         fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        await post_sms(client, inbound_form(PERSON, "hello"))
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
        await post_sms(client, inbound_form(PERSON, "HELP", OptOutType="HELP"))
        await drain(app)
        assert len(fake.to(PERSON)) == 2
        assert await count(app, "SELECT count(*) FROM audit WHERE action = 'provider_help'") == 1


async def test_media_is_not_downloaded_the_person_and_team_are_told(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    media_url = fake.base_url + "/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    form = inbound_form(PERSON, "", NumMedia="1", MediaUrl0=media_url,
                        MediaContentType0="image/jpeg")
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, form)).status_code == 200
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 1)
        await drain(app)
        assert await count(app, "SELECT count(*) FROM alerts WHERE kind = 'media'") == 1
    assert fake.to(PERSON)[0]["body"].startswith("Sorry, I can only read text messages")
    assert all(method == "POST" for method, _ in fake.requests)


async def test_status_callbacks_out_of_order_only_move_forward(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        await post_sms(client, inbound_form(PERSON, "hello"))
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2)
        await drain(app)
        first, second = (m["sid"] for m in fake.to(PERSON))
        for sid, status in ((first, "delivered"), (first, "sent"), (first, "queued"),
                            (second, "sent"), (second, "sending")):
            assert (await post_status(client, sid, status)).status_code == 204
        db = app.state.service.db
        rows = await db.read(lambda c: c.execute(
            "SELECT p.provider_id, p.status, p.final, o.provider_status FROM provider_messages p"
            " JOIN outbox o ON o.id = p.outbox_id ORDER BY o.id").fetchall())
        assert [(r["provider_id"], r["status"], r["final"], r["provider_status"])
                for r in rows] == [(first, "delivered", 1, "delivered"),
                                   (second, "sent", 0, "sent")]


async def test_status_callbacks_from_twilio_arrive_shuffled(settings: Settings) -> None:
    holder: dict[str, Starlette] = {}

    async def app_proxy(scope: Any, receive: Any, send: Any) -> None:
        await holder["app"](scope, receive, send)

    async with twilio_api.running(callbacks=True, shuffle_callbacks=True,
                                  callback_statuses=("queued", "sent", "delivered"),
                                  callback_transport=httpx.ASGITransport(app=app_proxy),
                                  faults=twilio_api.Faults(seed=3)) as fake, \
            serving(twilio_settings(settings, fake)) as (app, client):
        holder["app"] = app
        await post_sms(client, inbound_form(PERSON, "hello"))
        await fake.wait_for(lambda: len(fake.callback_answers) >= 6)
        await drain(app)
        db = app.state.service.db
        statuses = await db.read(lambda c: [r[0] for r in c.execute(
            "SELECT status FROM provider_messages").fetchall()])
        assert statuses == ["delivered", "delivered"]
        assert set(fake.callback_answers) == {204}


async def test_sms_off_says_why_and_has_no_route(settings: Settings) -> None:
    async with serving(settings) as (_, client):
        health = (await client.get("/healthz")).json()
        assert health["channels"]["sms"].startswith("off: TWILIO_ACCOUNT_SID")
        assert "RJBOT_PUBLIC_URL" in health["channels"]["sms"]
        assert (await post_sms(client, inbound_form(PERSON, "hi"))).status_code == 404


async def test_no_number_or_text_in_debug_logs(settings: Settings, fake: FakeTwilioAPI,
                                               caplog: pytest.LogCaptureFixture) -> None:
    other, landline = "+447700900777", "+442079460000"
    fake.error_for[other] = 21614
    with caplog.at_level(logging.DEBUG):
        async with serving(twilio_settings(settings, fake)) as (app, client):
            await post_sms(client, inbound_form(PERSON, "my private words"))
            await post_sms(client, inbound_form(PERSON, "", NumMedia="1",
                                                MediaUrl0="https://mediahost.invalid/m.jpg"))
            await post_sms(client, inbound_form(other, "another secret"))
            await post_sms(client, inbound_form(landline, "landline words"))
            await drain(app)
            for message in fake.to(PERSON):
                await post_status(client, message["sid"], "undelivered", "30003")
            await post_sms(client, inbound_form(PERSON, "STOP", OptOutType="STOP"))
            await post_sms(client, inbound_form(PERSON, "forged"), signature="x")
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "undeliverable" in logged, "nothing was logged: the test would prove nothing"
    for secret in (PERSON, other, landline, "my private words", "another secret",
                   "landline words", "mediahost"):
        assert secret not in logged and secret[3:] not in logged, secret


async def test_no_number_or_text_in_the_database_file(settings: Settings,
                                                      fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        await post_sms(client, inbound_form(PERSON, "words only I know"))
        await drain(app)
        for message in fake.to(PERSON):
            await post_status(client, message["sid"], "delivered")
        raw = b"".join(p.read_bytes() for p in settings.database.parent.glob(
            settings.database.name + "*") if p.is_file())
    assert raw and b"provider_messages" in raw
    for secret in (PERSON, PERSON[1:], "words only I know", "automated assistant"):
        assert secret.encode() not in raw and secret.encode("utf-16-le") not in raw


async def test_a_signed_request_without_sid_or_sender_is_refused(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        no_sid = {k: v for k, v in inbound_form(PERSON, "hi").items() if k != "MessageSid"}
        assert (await post_sms(client, no_sid)).status_code == 400
        assert (await post_sms(client, inbound_form("", "hi"))).status_code == 400
        assert (await post_status(client, "", "delivered")).status_code == 400
        assert await count(app, "SELECT count(*) FROM inbound") == 0
