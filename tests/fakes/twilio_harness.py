"""Run the real TwilioChannel (twilio's client) against the fake Twilio API, and sign webhooks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any

import httpx

from bot.channels.twilio_sms import SMS_PATH, STATUS_PATH, TwilioChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings
from bot.service import Service
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    WHATSAPP_FROM,
    FakeTwilioAPI,
    inbound_form,
    sign,
    whatsapp_form,
)

PUBLIC_URL = "https://rjbot.example.org"
PERSON = "+447700900123"


def twilio_settings(base: Settings, fake: FakeTwilioAPI, rate: float = 1000.0,
                    public_url: str = PUBLIC_URL) -> Settings:
    return replace(base, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                   twilio_from_number=FROM_NUMBER, twilio_api_base=fake.base_url,
                   twilio_send_rate=rate, public_url=public_url)


TEMPLATE_SID = "HX" + "7" * 32
TEMPLATE_BODY = "There is a new message for you. Reply to see it."
CHOICES_SID = "HX" + "c" * 32


def whatsapp_settings(base: Settings, fake: FakeTwilioAPI, *, sms: bool = True,
                      buttons: bool = False) -> Settings:
    """WhatsApp on (with SMS too unless `sms=False`); the fake knows the approved template."""
    fake.contents[TEMPLATE_SID] = TEMPLATE_BODY
    fake.contents[CHOICES_SID] = "{{1}}"
    settings = replace(twilio_settings(base, fake), twilio_whatsapp_from=WHATSAPP_FROM,
                       twilio_whatsapp_templates=(("", TEMPLATE_SID),),
                       twilio_whatsapp_choices_sid=CHOICES_SID if buttons else "")
    return settings if sms else replace(settings, twilio_from_number="")


@contextlib.asynccontextmanager
async def started_whatsapp(service: Service, fake: FakeTwilioAPI, *, buttons: bool = False,
                           timeout: float = 2.0) -> AsyncIterator[WhatsAppChannel]:
    channel = WhatsAppChannel(whatsapp_settings(service.settings, fake, buttons=buttons),
                              service.runtime, timeout=timeout)
    await channel.start()
    service.sender.channels["whatsapp"] = channel
    try:
        yield channel
    finally:
        await channel.stop()


@contextlib.asynccontextmanager
async def started(service: Service, fake: FakeTwilioAPI, *, rate: float = 1000.0,
                  timeout: float = 2.0) -> AsyncIterator[TwilioChannel]:
    """A started channel wired into the service's sender; always stopped afterwards."""
    channel = TwilioChannel(twilio_settings(service.settings, fake, rate), service.runtime,
                            timeout=timeout)
    await channel.start()
    service.sender.channels["sms"] = channel
    try:
        yield channel
    finally:
        await channel.stop()


def post_sms(client: httpx.AsyncClient, form: dict[str, str], *, token: str = AUTH_TOKEN,
             url: str = PUBLIC_URL + SMS_PATH, signature: str | None = None,
             path: str = SMS_PATH) -> Coroutine[Any, Any, httpx.Response]:
    """POST a webhook as Twilio does: the form, signed over the public URL (or as given)."""
    headers = {"X-Twilio-Signature": signature if signature is not None
               else sign(token, url, form)}
    if signature == "":
        headers = {}
    return client.post(path, data=form, headers=headers)


def post_status(client: httpx.AsyncClient, sid: str, status: str,
                error_code: str = "", to: str = PERSON,
                sender: str = FROM_NUMBER) -> Coroutine[Any, Any, httpx.Response]:
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": ACCOUNT_SID, "From": sender, "To": to,
            "ApiVersion": "2010-04-01"}
    if error_code:
        form["ErrorCode"] = error_code
    return post_sms(client, form, url=PUBLIC_URL + STATUS_PATH, path=STATUS_PATH)


__all__ = ["PERSON", "PUBLIC_URL", "inbound_form", "post_sms", "post_status", "started",
           "started_whatsapp", "twilio_settings", "whatsapp_form", "whatsapp_settings"]
