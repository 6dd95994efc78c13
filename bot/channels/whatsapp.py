"""WhatsApp through Twilio: the same signed webhook and REST API as SMS, its own address kind.

Inbound arrives on /webhooks/twilio/sms with `From=whatsapp:+44...`; the person is stored by
number on the `whatsapp` channel, apart from the SMS person of the same number (they are
joined only by the explicit linking a facilitator starts). Replies leave from the outbox as
`To=whatsapp:+44...` from TWILIO_WHATSAPP_FROM.

WhatsApp allows free-form messages only within 24 hours of the person's last message. Outside
it the outbox sends the approved template instead (`send` with `out.template`: ContentSid and
ContentVariables; bot.store.send_gate decides), and the message itself waits until the
person replies. Media is never downloaded. Choices are numbered lines, or quick-reply buttons
through a Content template when TWILIO_WHATSAPP_CHOICES_SID is set and they fit WhatsApp's
limits (3 buttons, 20 characters each).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol
from urllib.parse import quote

import aiohttp
from twilio.base.exceptions import TwilioRestException

from bot.channels.base import (
    LINK_INVALID,
    LINKED,
    Failed,
    Outgoing,
    Retry,
    SendResult,
    Sent,
    numbered_text,
)
from bot.channels.parts import steps
from bot.channels.phone import E164, NotForSms, e164
from bot.channels.rate import RateLimiter
from bot.channels.segments import split_fitting
from bot.channels.twilio_sms import TwilioChannel, classify, inbound_of
from bot.config import Settings
from bot.i18n import DEFAULT_LOCALE, N_, gettext, render
from bot.runtime import Inbound, LinkResult
from bot.types import ChannelName, Msg, Reply

log = logging.getLogger(__name__)
PREFIX = "whatsapp:"
MAX_BODY = 1600  # characters Twilio takes in one WhatsApp message body
RATE = 20.0  # messages a second to Twilio for our WhatsApp sender
# Translators: the approved WhatsApp template sent outside the 24-hour window (it must say
# exactly what the template approved by Meta says); discreet: nothing about the service.
TEMPLATE_TEXT = N_("There is a new message for you. Reply to see it.")
TEMPLATE_NAME = "new_message"  # what `rjbot simulate` prints as "template"
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20  # WhatsApp's quick-reply limits


LINK = re.compile(r"\s*link\s+([A-Za-z0-9_-]{16,64})\s*", re.IGNORECASE)


class Inbox(Protocol):
    async def handle(self, inbound: Inbound) -> object: ...

    async def link(self, inbound: Inbound, code: str, welcome: Reply) -> LinkResult: ...


# WhatsApp's own refusals (Twilio error codes)
NOT_ON_WHATSAPP = {63003: "not on WhatsApp", 63024: "not a WhatsApp recipient"}
OUTSIDE_WINDOW = 63016  # free text outside the 24-hour window: our clock and Meta's disagree


def classify_whatsapp(exc: TwilioRestException) -> SendResult:
    code = exc.code if isinstance(exc.code, int) else 0
    if code in NOT_ON_WHATSAPP:
        return Failed(NOT_ON_WHATSAPP[code], undeliverable=True)
    if code == OUTSIDE_WINDOW:
        return Failed("outside the WhatsApp 24-hour window")
    return classify(exc)


def link_url(sender: str, code: str) -> str:
    """What a facilitator gives the person: WhatsApp opens with "LINK <code>" written."""
    return f"https://wa.me/{sender.lstrip('+')}?text=" + quote(f"LINK {code}")


def whatsapp_parts(text: str) -> list[str]:
    """The bodies a text goes out as: each step, split further only past Twilio's limit."""
    return [piece for step in steps(text)
            for piece in split_fitting(step, lambda t: len(t) <= MAX_BODY)]


def buttons_fit(out: Outgoing) -> bool:
    return 0 < len(out.choices) <= MAX_BUTTONS and all(
        len(label) <= MAX_BUTTON_TITLE and len(payload) <= 200 for payload, label in out.choices)


class WhatsAppChannel(TwilioChannel):
    name: ChannelName = "whatsapp"
    tracks_delivery = True  # status callbacks report sent, delivered and read

    def __init__(self, settings: Settings, inbox: Inbox, *, timeout: float = 10.0) -> None:
        super().__init__(settings, inbox, timeout=timeout)
        self.link_inbox = inbox
        self.limiter = RateLimiter(RATE, burst=RATE)

    @staticmethod
    def link_code(text: str) -> str | None:
        found = LINK.fullmatch(text)
        return found.group(1) if found else None

    async def receive(self, form: Mapping[str, str]) -> None:
        """Apply an inbound message; "LINK <code>" joins this address to a person's case
        (the explicit linking a facilitator starts; never by phone number)."""
        found = inbound_of(form, self.name)
        code = self.link_code(found[0].text) if len(found) == 1 and not found[0].signal else None
        if code is None:
            for inbound in found:
                await self.inbox.handle(inbound)
            return
        linking = replace(found[0], text="LINK")  # the code itself is never stored
        if await self.link_inbox.link(linking, code, Reply(LINKED)) == "invalid":
            await self._say(linking.address, LINK_INVALID)

    async def _say(self, address: str, text: Msg) -> None:
        """A reply outside any case (they just wrote, so inside the window)."""
        try:
            await self._create(self.recipient(address), {"body": render(text, DEFAULT_LOCALE)})
        except (TwilioRestException, TimeoutError, aiohttp.ClientError, OSError,
                NotForSms) as exc:
            log.info("whatsapp direct reply: %s", type(exc).__name__)

    def _sender(self) -> dict[str, str]:
        return {"from_": PREFIX + self.settings.twilio_whatsapp_from}

    def recipient(self, address: str) -> str:
        number = address if E164.fullmatch(address) else e164(address)
        if not number:
            raise NotForSms("not a phone number")
        return PREFIX + number

    def parts(self, out: Outgoing) -> list[str]:
        if out.template:
            return [gettext(out.locale, TEMPLATE_TEXT)]
        if self._with_buttons(out):
            return whatsapp_parts(out.text)
        return whatsapp_parts(numbered_text(out))

    def cost(self, part: str) -> int:
        return 1

    def _with_buttons(self, out: Outgoing) -> bool:
        return bool(self.settings.twilio_whatsapp_choices_sid) and buttons_fit(out)

    def _content(self, out: Outgoing, part: str, last: bool) -> dict[str, str]:
        """What one part is sent as: a template, quick-reply buttons, or free text."""
        if out.template:
            return {"content_sid": self.settings.whatsapp_template(out.locale),
                    "content_variables": json.dumps({})}
        if last and self._with_buttons(out):
            variables = {"1": part}
            for n, (payload, label) in enumerate(out.choices, start=1):
                variables[f"{2 * n}"], variables[f"{2 * n + 1}"] = label, payload
            return {"content_sid": self.settings.twilio_whatsapp_choices_sid,
                    "content_variables": json.dumps(variables, ensure_ascii=False)}
        return {"body": part}

    async def send(self, out: Outgoing) -> SendResult:
        try:
            to = self.recipient(out.address)
        except NotForSms as exc:
            return Failed(exc.reason, undeliverable=True)
        if out.template and not self.settings.whatsapp_template(out.locale):
            return Failed("no approved template")
        parts = self.parts(out)
        ids: list[str] = []
        try:
            if out.first_try is not None:
                ids = await self._already_sent(to, parts, out.first_try)
            for number in range(len(ids), len(parts)):
                await self.limiter.acquire(1)
                content = self._content(out, parts[number], number == len(parts) - 1)
                ids.append(await self._create(to, content))
        except TwilioRestException as exc:
            log.info("whatsapp send outbox %d: twilio %s/%s", out.outbox_id, exc.status,
                     exc.code)
            return classify_whatsapp(exc)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("whatsapp send outbox %d: %s", out.outbox_id, type(exc).__name__)
            return Retry(type(exc).__name__)
        self._remember(ids)
        return Sent(",".join(ids))
