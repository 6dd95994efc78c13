"""Signed Twilio webhooks whose fields are not Twilio's: refused with 400, nothing stored.

Twilio's signature joins keys and values without separators, so a signature alone cannot
tell `MessageSid=<sid>` + `NumMedia=0` from `MessageSid=<sid>NumMedia0` (issue 17, finding 4).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import console
from tests.fakes import twilio_api
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilioAPI, sign
from tests.fakes.twilio_harness import (
    PERSON,
    PUBLIC_URL,
    inbound_form,
    post_sms,
    post_status,
    twilio_settings,
)

SMS_URL = PUBLIC_URL + "/webhooks/twilio/sms"
SID = "SM" + "0123456789abcdef" * 2


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    async with console(settings, base_url=PUBLIC_URL) as (app, client):
        yield app, client


async def count(app: Starlette, table: str) -> int:
    db = app.state.service.db
    return int(await db.read(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))


async def drain(app: Starlette) -> None:
    while await app.state.service.sender.send_due():
        pass


async def test_a_spliced_replay_with_the_original_signature_is_refused(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    original = inbound_form(PERSON, "hello", sid=SID)
    signature = sign(AUTH_TOKEN, SMS_URL, original)
    spliced = {k: v for k, v in original.items() if k != "NumMedia"}
    spliced["MessageSid"] = SID + "NumMedia0"
    assert sign(AUTH_TOKEN, SMS_URL, spliced) == signature  # the attack: the same signature
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, original, signature=signature)).status_code == 200
        await drain(app)
        sent = len(fake.created)
        assert (await post_sms(client, spliced, signature=signature)).status_code == 400
        await drain(app)
        assert await count(app, "inbound") == 1
    assert len(fake.created) == sent == 2


def _bad(form: dict[str, str]) -> dict[str, dict[str, str]]:
    without = {k: v for k, v in form.items() if k != "AccountSid"}
    return {
        "short sid": {**form, "MessageSid": "SM1234"},
        "upper-case sid": {**form, "MessageSid": SID.upper()},
        "other prefix": {**form, "MessageSid": "XX" + SID[2:]},
        "sid with a tail": {**form, "MessageSid": SID + "0"},
        "sid unlike its alias": {**form, "SmsSid": "SM" + "f" * 32},
        "other account": {**form, "AccountSid": "AC" + "f" * 32},
        "no account": without,
        "to another number": {**form, "To": "+447700900111"},
        "to our number spliced": {**form, "To": FROM_NUMBER + "ToCountryGB"},
        "from spliced": {**form, "From": PERSON + "FromCityLondon"},
        "from a name": {**form, "From": "Alice"},
        "no from": {**form, "From": ""},
        "whatsapp to sms number": {**form, "From": "whatsapp:" + PERSON},
        "media count": {**form, "NumMedia": "1x"},
        "opt-out type": {**form, "OptOutType": "STOPNumSegments1"},
    }


CASES = sorted(_bad(inbound_form(PERSON, "hello", sid=SID)))


@pytest.mark.parametrize("case", CASES)
async def test_signed_but_not_twilios_fields_are_a_400_and_nothing_is_stored(
        settings: Settings, fake: FakeTwilioAPI, case: str) -> None:
    form = _bad(inbound_form(PERSON, "hello", sid=SID))[case]
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, form)).status_code == 400
        await drain(app)
        assert await count(app, "inbound") == 0
        assert await count(app, "people") == 0
    assert fake.created == []


async def test_a_good_message_passes_every_check(settings: Settings,
                                                 fake: FakeTwilioAPI) -> None:
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, inbound_form(PERSON, "hello", sid=SID))).status_code == 200
        mms = inbound_form(PERSON, "", sid="MM" + SID[2:], NumMedia="1")
        assert (await post_sms(client, mms)).status_code == 200
        assert await count(app, "inbound") == 2


@pytest.mark.parametrize("field,value", [("MessageSid", "SM12"), ("AccountSid", "AC" + "f" * 32),
                                         ("MessageSid", SID + "MessageStatusfailed")])
async def test_a_status_callback_not_twilios_is_a_400(settings: Settings, fake: FakeTwilioAPI,
                                                      field: str, value: str) -> None:
    form = {"MessageSid": SID, "SmsSid": SID, "MessageStatus": "delivered",
            "SmsStatus": "delivered", "AccountSid": ACCOUNT_SID, "From": FROM_NUMBER,
            "To": PERSON, "ApiVersion": "2010-04-01", field: value}
    if field == "MessageSid":
        form["SmsSid"] = value
    async with serving(twilio_settings(settings, fake)) as (app, client):
        assert (await post_sms(client, form, url=PUBLIC_URL + "/webhooks/twilio/status",
                               path="/webhooks/twilio/status")).status_code == 400
        assert (await post_status(client, SID, "delivered")).status_code == 204
        assert await count(app, "provider_messages") == 1


async def test_a_messaging_service_number_is_ours_when_twilio_names_our_service(
        settings: Settings, fake: FakeTwilioAPI) -> None:
    service_sid = "MG" + "a" * 32
    ours = replace(twilio_settings(settings, fake), twilio_from_number="",
                   twilio_messaging_service_sid=service_sid)
    pool_number = "+447700900555"
    named = inbound_form(PERSON, "hello", to=pool_number, MessagingServiceSid=service_sid)
    other = inbound_form(PERSON, "hello", to=pool_number, MessagingServiceSid="MG" + "b" * 32)
    async with serving(ours) as (app, client):
        assert (await post_sms(client, other)).status_code == 400
        assert (await post_sms(client, named)).status_code == 200
        assert await count(app, "inbound") == 1
