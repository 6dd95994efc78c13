"""One contract, every channel adapter (aiogram's storage tests, for channels).

Each adapter gets a Harness: the person's side of that channel (how they send text, pick a
choice, opt out; what they see) around the real adapter, runtime and store. The test class
below runs unchanged against every entry of HARNESSES.

Adding an adapter (e.g. SMS): write a Harness subclass whose `say`/`choose`/`opt_out` go
through the adapter's own inbound path (its webhook or handler) and whose `seen` reads what
its fake provider received, then add `"sms": SmsHarness.open` to HARNESSES.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bot.channels.base import Channel, Failed, Outgoing, SendResult, Sent
from bot.channels.console import ConsoleChannel
from bot.runtime import Inbound
from bot.service import Service
from tests.fakes import telegram_api, twilio_api, twilio_harness
from tests.fakes.telegram_api import button_update, text_update
from tests.fakes.telegram_harness import deliver, started


@dataclass(frozen=True)
class Seen:
    """One message as the person saw it: its text and the choices offered with it."""

    text: str
    choices: tuple[str, ...] = ()


@dataclass
class Harness:
    service: Service
    channel: Channel
    address: str
    max_part: int | None = None  # the longest single message the channel sends
    can_report_opt_out: bool = False  # the provider can tell us the person blocked us

    async def say(self, text: str, provider_id: str) -> None:
        raise NotImplementedError

    async def choose(self, label: str) -> None:
        """Pick a choice from the last message offering one, the way this channel does."""
        raise NotImplementedError

    async def opt_out(self) -> None:
        raise NotImplementedError

    def seen(self) -> list[Seen]:
        raise NotImplementedError

    async def blocked_send(self, out: Outgoing) -> SendResult:
        raise NotImplementedError

    async def flush(self) -> None:
        while await self.service.sender.send_due():
            pass


@dataclass
class ConsoleHarness(Harness):
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, service: Service) -> AsyncIterator[Harness]:
        records: list[dict[str, Any]] = []
        channel = ConsoleChannel("console", records.append)
        service.sender.channels["console"] = channel
        yield cls(service, channel, "console-1", records=records)

    async def say(self, text: str, provider_id: str) -> None:
        await self.service.runtime.handle(Inbound("console", self.address, provider_id, text))
        await self.flush()

    async def choose(self, label: str) -> None:
        offered = next(s for s in reversed(self.seen()) if s.choices)
        await self.say(str(offered.choices.index(label) + 1), f"pick-{len(self.records)}")

    async def opt_out(self) -> None:
        await self.say("stop", "opt-out")

    def seen(self) -> list[Seen]:
        return [Seen(r["text"], tuple(r["choices"])) for r in self.records]


@dataclass
class TelegramHarness(Harness):
    fake: telegram_api.FakeBotAPI | None = None
    chat: int = 31337
    ids: Callable[[], int] = field(default_factory=lambda: itertools.count(1).__next__)
    update_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, service: Service) -> AsyncIterator[Harness]:
        async with telegram_api.running() as fake, started(service, fake) as channel:
            yield cls(service, channel, "31337", max_part=4096, can_report_opt_out=True,
                      fake=fake)

    async def _deliver(self, update: dict[str, Any]) -> None:
        from bot.channels.telegram import TelegramChannel

        assert isinstance(self.channel, TelegramChannel)
        await deliver(self.service, self.channel, update)

    async def say(self, text: str, provider_id: str) -> None:
        uid = self.update_ids.setdefault(provider_id, self.ids())
        await self._deliver(text_update(self.chat, text, update_id=uid))

    async def choose(self, label: str) -> None:
        assert self.fake is not None
        message = next(m for m in reversed(self.fake.sent) if "reply_markup" in m)
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        data = next(b["callback_data"] for b in buttons if b["text"] == label)
        await self._deliver(button_update(self.chat, data, message))

    async def opt_out(self) -> None:
        await self.say("/withdraw", "opt-out")

    def seen(self) -> list[Seen]:
        assert self.fake is not None
        return [Seen(m["text"], tuple(b["text"] for row in m.get("reply_markup", {}).get(
            "inline_keyboard", []) for b in row)) for m in self.fake.sent]

    async def blocked_send(self, out: Outgoing) -> SendResult:
        assert self.fake is not None
        self.fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        return await self.channel.send(out)


@dataclass
class SmsHarness(Harness):
    """The person texts through the signed webhook route; what they see is what the fake
    Twilio API was asked to send (choices parsed back out of the numbered lines)."""

    fake: twilio_api.FakeTwilioAPI | None = None
    client: httpx.AsyncClient | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, service: Service) -> AsyncIterator[Harness]:
        from starlette.applications import Starlette

        from bot.channels import twilio_routes

        async with twilio_api.running() as fake, \
                twilio_harness.started(service, fake) as channel:
            app = Starlette(routes=twilio_routes.ROUTES)
            app.state.twilio, app.state.service = channel, service
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url=twilio_harness.PUBLIC_URL) as client:
                yield cls(service, channel, twilio_harness.PERSON, max_part=3 * 153,
                          can_report_opt_out=True, fake=fake, client=client)

    async def _post(self, form: dict[str, str]) -> None:
        assert self.client is not None
        response = await twilio_harness.post_sms(self.client, form)
        assert response.status_code == 200
        await self.flush()

    async def say(self, text: str, provider_id: str) -> None:
        await self._post(twilio_api.inbound_form(self.address, text,
                                                 sid=twilio_api.message_sid(provider_id)))

    async def choose(self, label: str) -> None:
        offered = next(s for s in reversed(self.seen()) if s.choices)
        await self.say(str(offered.choices.index(label) + 1), f"pick-{len(self.seen())}")

    async def opt_out(self) -> None:
        await self._post(twilio_api.inbound_form(self.address, "STOP", OptOutType="STOP"))

    def seen(self) -> list[Seen]:
        assert self.fake is not None
        return [_numbered(m["body"]) for m in self.fake.to(self.address)]

    async def blocked_send(self, out: Outgoing) -> SendResult:
        assert self.fake is not None
        self.fake.error_for[self.address] = 21610
        return await self.channel.send(out)


@dataclass
class WhatsAppHarness(SmsHarness):
    """WhatsApp: the same signed webhook with `whatsapp:` addresses; no STOP from Twilio, so
    the person opts out in words (the engine's stop), and a blocked send is Twilio's 63024
    ('invalid message recipient') or an unsubscribed 21610."""

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, service: Service) -> AsyncIterator[Harness]:
        from starlette.applications import Starlette

        from bot.channels import twilio_routes

        async with twilio_api.running() as fake, \
                twilio_harness.started_whatsapp(service, fake) as channel:
            app = Starlette(routes=twilio_routes.ROUTES)
            app.state.whatsapp, app.state.service = channel, service
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url=twilio_harness.PUBLIC_URL) as client:
                yield cls(service, channel, twilio_harness.PERSON, max_part=1600,
                          can_report_opt_out=True, fake=fake, client=client)

    async def say(self, text: str, provider_id: str) -> None:
        await self._post(twilio_api.whatsapp_form(self.address, text,
                                                  sid=twilio_api.message_sid(provider_id)))

    async def opt_out(self) -> None:
        await self.say("stop", "opt-out")

    def seen(self) -> list[Seen]:
        assert self.fake is not None
        return [_numbered(m["body"]) for m in self.fake.to("whatsapp:" + self.address)]

    async def blocked_send(self, out: Outgoing) -> SendResult:
        assert self.fake is not None
        self.fake.error_for["whatsapp:" + self.address] = 21610
        return await self.channel.send(out)


def _numbered(body: str) -> Seen:
    """An SMS as the person reads it: the choices are the numbered lines after the lead."""
    lead = "Reply with a number:"
    if lead not in body:
        return Seen(body)
    lines = body.split(lead, 1)[1].strip().splitlines()
    return Seen(body, tuple(line.split(". ", 1)[1] for line in lines if ". " in line))


HARNESSES: dict[str, Callable[[Service], contextlib.AbstractAsyncContextManager[Harness]]] = {
    "console": ConsoleHarness.open,
    "sms": SmsHarness.open,
    "telegram": TelegramHarness.open,
    "whatsapp": WhatsAppHarness.open,
}


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest, service: Service) -> AsyncIterator[Harness]:
    async with HARNESSES[request.param](service) as h:
        yield h


async def person_row(service: Service) -> tuple[str, int]:
    row = await service.db.read(
        lambda c: c.execute("SELECT status, opted_out FROM people").fetchone())
    return row["status"], row["opted_out"]


class TestChannelContract:
    async def test_choices_are_offered_and_can_be_picked(self, harness: Harness) -> None:
        await harness.say("hello", "m1")
        assert harness.seen()[-1].choices == (
            "Yes, keep them like that", "Yes, plain words are fine", "No, it is not safe")
        await harness.choose("Yes, keep them like that")
        last = harness.seen()[-1]
        assert last.text.startswith("Question 2 of 6")
        assert last.choices[0] == "Any time, 8am to 9pm"
        await harness.choose("Mornings, 9am to 12")
        assert harness.seen()[-1].text.startswith("Question 3 of 6")

    async def test_long_text_arrives_whole_within_the_channel_limit(self,
                                                                    harness: Harness) -> None:
        text = "\n\n".join(f"Part {i}: " + "steady words " * 400 for i in range(3))
        out = Outgoing(1, harness.address, text, (("yes", "Yes"), ("no", "No")), "en_GB")
        assert isinstance(await harness.channel.send(out), Sent)
        parts = harness.seen()
        assert " ".join(p.text for p in parts).split()[: len(text.split())] == text.split()
        if harness.max_part is not None:
            assert all(len(p.text) <= harness.max_part for p in parts)
        assert parts[-1].choices == ("Yes", "No") or "Yes" in parts[-1].text

    async def test_unknown_input_is_said_and_the_question_asked_again(self,
                                                                     harness: Harness) -> None:
        await harness.say("hello", "m1")
        await harness.choose("Yes, keep them like that")
        before = len(harness.seen())
        await harness.say("purple elephant", "m2")
        new = harness.seen()[before:]
        assert new[0].text.startswith("Sorry, I did not understand")
        assert new[-1].text.startswith("Question 2 of 6")
        assert new[-1].choices[0] == "Any time, 8am to 9pm"

    async def test_opting_out_stops_every_message(self, harness: Harness) -> None:
        await harness.say("hello", "m1")
        await harness.opt_out()
        status, opted_out = await person_row(harness.service)
        assert status == "withdrawn" or opted_out
        before = len(harness.seen())
        await harness.say("what now", "m3")
        assert len(harness.seen()) == before

    async def test_provider_reports_a_blocked_person(self, harness: Harness) -> None:
        if not harness.can_report_opt_out:
            pytest.skip("this channel's provider never reports opt-outs")
        result = await harness.blocked_send(Outgoing(5, harness.address, "hi", (), "en_GB"))
        assert isinstance(result, Failed) and result.opted_out

    async def test_a_redelivered_message_is_handled_once(self, harness: Harness) -> None:
        await harness.say("hello", "same-id")
        first = len(harness.seen())
        await harness.say("hello", "same-id")
        assert first > 0 and len(harness.seen()) == first
