"""WhatsApp through the real ASGI app and the real twilio client against the fake Twilio API.

The signed SMS webhook takes `whatsapp:` senders as their own people; replies go out as
WhatsApp messages from our WhatsApp sender; outside the 24-hour window only the approved
template goes (a message like any other: safe times hold), and the real messages follow the
person's reply (issue 21).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.clock import VirtualClock
from bot.config import Settings
from bot.privacy import sealed
from bot.store import records
from tests.console_kit import console
from tests.fakes import twilio_api
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI
from tests.fakes.twilio_harness import (
    PERSON,
    PUBLIC_URL,
    TEMPLATE_BODY,
    TEMPLATE_SID,
    inbound_form,
    post_sms,
    post_status,
    whatsapp_form,
    whatsapp_settings,
)

WA = "whatsapp:" + PERSON
OURS = "whatsapp:" + WHATSAPP_FROM
INTAKE = ["hello", "1", "1", "1", "Sam", "1", "1", "2"]  # to the end of the first questions


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


@contextlib.asynccontextmanager
async def serving(settings: Settings, clock: VirtualClock, **options: Any
                  ) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    async with console(settings, base_url=PUBLIC_URL, clock=clock) as app:
        yield app


async def rows(app: Starlette, sql: str, *args: Any) -> list[Any]:
    return list(await app.state.service.db.read(lambda c: c.execute(sql, args).fetchall()))


async def drain(app: Starlette) -> None:
    async with asyncio.timeout(10):
        while await rows(app, "SELECT id FROM outbox WHERE status IN ('pending', 'sending')"
                              " AND next_attempt_at <= ?", app.state.service.runtime.clock.now(
                              ).timestamp()):
            await app.state.service.sender.send_due()
            await asyncio.sleep(0.01)


async def say(app: Starlette, client: httpx.AsyncClient, text: str, **extra: str) -> None:
    response = await post_sms(client, whatsapp_form(PERSON, text, **extra))
    assert response.status_code == 200
    await drain(app)


async def person_of(app: Starlette, channel: str, address: str) -> int:
    service = app.state.service
    found = await service.db.read(lambda c: records.find_address(c, service.cipher, channel,
                                                                 address))
    assert found is not None
    return int(found[0])


async def test_a_whatsapp_message_is_answered_on_whatsapp_and_is_its_own_person(
        settings: Settings, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        health = (await client.get("/healthz")).json()["channels"]
        assert health["whatsapp"] == "on" and health["sms"] == "on"
        await say(app, client, "hello")
        assert (await post_sms(client, inbound_form(PERSON, "hello"))).status_code == 200
        await drain(app)
        people = await rows(app, "SELECT channel FROM addresses ORDER BY id")
        whatsapp_person = await person_of(app, "whatsapp", PERSON)
        sms_person = await person_of(app, "sms", PERSON)
    assert [p["channel"] for p in people] == ["whatsapp", "sms"]
    assert whatsapp_person != sms_person  # the same number, two people until linked
    sent = fake.to(WA)
    assert len(sent) == 2 and all(m["from"] == OURS for m in sent)
    assert sent[0]["body"].startswith("Hello. This is an automated assistant")
    assert sent[1]["body"].endswith("Reply with a number:\n1. Yes, keep them like that\n"
                                    "2. Yes, plain words are fine\n3. No, it is not safe")
    assert all(m["status_callback"] == PUBLIC_URL + "/webhooks/twilio/status" for m in sent)
    assert len(fake.to(PERSON)) == 2  # the SMS person got the SMS replies


async def test_delivery_and_read_statuses_are_tracked(settings: Settings, clock: VirtualClock,
                                                      fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        await say(app, client, "hello")
        first = fake.to(WA)[0]["sid"]
        for status in ("sent", "read", "delivered"):  # read before delivered: never back
            answer = await post_status(client, first, status, to=WA, sender=OURS)
            assert answer.status_code == 204
        found = await rows(app, "SELECT channel, status FROM provider_messages"
                                " WHERE provider_id = ?", first)
    assert [tuple(r) for r in found] == [("whatsapp", "read")]


async def test_outside_the_window_the_template_goes_then_the_messages_after_a_reply(
        settings: Settings, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        for text in INTAKE:
            await say(app, client, text)
        person = await person_of(app, "whatsapp", PERSON)
        runtime = app.state.service.runtime
        before = len(fake.to(WA))
        clock.advance_to(clock.now() + timedelta(hours=25))  # Tuesday 11:00: safe time
        for text in ("Hello Sam, this is Alex.", "Are you free on Monday?"):
            await runtime.act(person, "send_message", {"text": text}, actor="alex")
        await drain(app)
        new = fake.to(WA)[before:]
        assert [m["body"] for m in new] == [TEMPLATE_BODY]  # one template, not two
        assert new[0]["content_sid"] == TEMPLATE_SID and new[0]["content_variables"] == {}
        held = await rows(app, "SELECT status, error FROM outbox WHERE status = 'held'")
        assert [tuple(r) for r in held] == [("held", "awaiting reply")] * 2
        clock.advance_to(clock.now() + timedelta(hours=30))
        await runtime.act(person, "send_message", {"text": "Or Tuesday?"}, actor="alex")
        await drain(app)
        assert len(fake.to(WA)) == before + 1  # still waiting for their reply: no nagging
        await say(app, client, "hi")
        await drain(app)
        after = [m["body"] for m in fake.to(WA)[before + 1:]]
        audit = await rows(app, "SELECT action FROM audit WHERE action LIKE 'outbox_%'")
    waited = ["Hello Sam, this is Alex.", "Are you free on Monday?", "Or Tuesday?"]
    assert [m for m in after if m in waited] == waited  # each once, in order (with the answer
    assert after[0] == waited[0]  # to "hi"), the first at once
    assert all(m["content_sid"] is None for m in fake.to(WA)[before + 1:])
    assert [a["action"] for a in audit].count("outbox_template") == 1


async def test_the_template_waits_for_the_safe_time(settings: Settings, clock: VirtualClock,
                                                    fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        for text in INTAKE:
            await say(app, client, text)
        person = await person_of(app, "whatsapp", PERSON)
        before = len(fake.to(WA))
        clock.advance_to(clock.now() + timedelta(hours=36))  # Tuesday 22:00 GMT: after 21:00
        await app.state.service.runtime.act(person, "send_message", {"text": "News."})
        await drain(app)
        assert len(fake.to(WA)) == before
        clock.advance_to(clock.now() + timedelta(hours=10, minutes=1))  # Wednesday 08:01
        await drain(app)
    assert [m["body"] for m in fake.to(WA)[before:]] == [TEMPLATE_BODY]


async def test_risk_words_are_answered_at_once_inside_the_window(
        settings: Settings, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        await say(app, client, "hello")
        clock.advance_to(clock.now() + timedelta(days=3, hours=12))  # long silent, at night
        await say(app, client, "I want to die")
        alerts = await rows(app, "SELECT kind FROM alerts WHERE kind = 'risk'")
    assert "999" in fake.to(WA)[-1]["body"] or any("999" in m["body"] for m in fake.to(WA)[2:])
    assert all(m["content_sid"] is None for m in fake.to(WA))
    assert len(alerts) == 1


async def test_media_is_refused_politely_kept_as_not_accepted_and_never_fetched(
        settings: Settings, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    media_url = fake.base_url + "/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        await say(app, client, "hello")
        await say(app, client, "", NumMedia="1", MediaUrl0=media_url,
                  MediaContentType0="image/jpeg", MessageSid="MM" + "e" * 32,
                  SmsSid="MM" + "e" * 32, SmsMessageSid="MM" + "e" * 32)
        service = app.state.service
        kept = [sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r)
                for r in await rows(app, "SELECT id, person_id, body_enc FROM messages"
                                         " WHERE direction = 'in' ORDER BY id")]
        alerts = await rows(app, "SELECT kind FROM alerts WHERE kind = 'media'")
    assert kept == ["hello", "(media not accepted)"]
    assert fake.to(WA)[-1]["body"].startswith("Sorry, I can only read text messages")
    assert len(alerts) == 1
    assert all(method == "POST" for method, _ in fake.requests)  # nothing downloaded


async def test_choices_as_quick_reply_buttons_where_a_template_is_configured(
        settings: Settings, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake, buttons=True), clock) as (app, client):
        for text in INTAKE[:4]:
            await say(app, client, text)
        await say(app, client, "Sam")  # question 5: Phone call / Video call / In person
        asked = fake.to(WA)[-1]
        assert asked["content_sid"] is not None
        variables = asked["content_variables"]
        assert variables["1"].startswith("Question 5 of 6") and "Reply with" not in variables["1"]
        assert [variables["2"], variables["4"], variables["6"]] == [
            "Phone call", "Video call", "In person"]
        await say(app, client, "Video call", ButtonPayload=variables["5"],
                  ButtonText="Video call")
        state = await app.state.service.db.read(lambda c: records.load_state(
            c, app.state.service.cipher, 1)[0])
    assert state.answers.get("first_conversation") == variables["5"]
    long_choices = [m for m in fake.to(WA) if "Yes, keep them like that" in m["body"]]
    assert long_choices and long_choices[0]["content_sid"] is None  # 24 letters: numbered


async def test_whatsapp_alone_without_an_sms_number(settings: Settings, clock: VirtualClock,
                                                    fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake, sms=False), clock) as (app, client):
        health = (await client.get("/healthz")).json()["channels"]
        assert health["whatsapp"] == "on" and health["sms"].startswith("off")
        await say(app, client, "hello")
        sms = inbound_form(PERSON, "hello")
        assert (await post_sms(client, sms)).status_code == 400  # not one of our senders
        assert len(await rows(app, "SELECT * FROM people")) == 1
    assert len(fake.to(WA)) == 2


async def test_a_retry_after_a_timeout_sends_once(settings: Settings, clock: VirtualClock,
                                                  fake: FakeTwilioAPI) -> None:
    async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
        await say(app, client, "hello")
        channel = app.state.whatsapp
        from bot.channels.base import Outgoing

        fake.faults.hang_after_create = 1.0
        fake.hang_seconds = 5.0
        channel.timeout = 0.3
        out = Outgoing(99, PERSON, "A facilitator's words.", (), "en_GB")
        first = await channel.send(out)
        fake.faults.hang_after_create = 0.0
        again = await channel.send(Outgoing(99, PERSON, "A facilitator's words.", (), "en_GB",
                                            first_try=clock.now().timestamp() - 5))
    assert type(first).__name__ == "Retry" and type(again).__name__ == "Sent"
    assert [m["body"] for m in fake.to(WA)].count("A facilitator's words.") == 1
    assert json.dumps(fake.to(WA)[-1]["content_variables"]) == "null"


async def test_no_number_or_text_in_debug_logs(settings: Settings, clock: VirtualClock,
                                               fake: FakeTwilioAPI,
                                               caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        async with serving(whatsapp_settings(settings, fake), clock) as (app, client):
            for text in INTAKE:
                await say(app, client, text)
            await say(app, client, "my private words")
            clock.advance_to(clock.now() + timedelta(hours=25))
            person = await person_of(app, "whatsapp", PERSON)
            await app.state.service.runtime.act(person, "send_message", {"text": "Alex here."})
            await drain(app)
            await say(app, client, "", NumMedia="1", MediaUrl0="https://mediahost.invalid/m")
            await say(app, client, "hi")
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "inbound whatsapp applied" in logged, "nothing logged: the test would prove nothing"
    assert any(m["content_sid"] for m in fake.to(WA))  # the template went too
    for secret in (PERSON, PERSON[3:], WHATSAPP_FROM[3:], "my private words", "Alex here",
                   "Sam", "mediahost", TEMPLATE_BODY):
        assert secret not in logged, secret
