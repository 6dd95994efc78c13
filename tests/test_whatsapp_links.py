"""WhatsApp joins a person's SMS case only by an explicit one-time link (never by number).

A facilitator makes a code for the WhatsApp channel; the person opens
`https://wa.me/<our number>?text=LINK%20<code>`, which writes "LINK <code>" for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.channels import twilio_routes
from bot.channels.whatsapp import WhatsAppChannel, link_url
from bot.clock import to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import links
from tests.fakes import twilio_api
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL, post_sms, started_whatsapp

WA = "whatsapp:" + PERSON


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


@pytest.fixture
async def client(service: Service, fake: FakeTwilioAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with started_whatsapp(service, fake) as channel:
        app = Starlette(routes=twilio_routes.ROUTES)
        app.state.whatsapp, app.state.service = channel, service
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=PUBLIC_URL) as http:
            yield http


async def rows(service: Service, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return await service.db.read(lambda c: [tuple(r) for r in c.execute(sql, args)])


async def say(service: Service, client: httpx.AsyncClient, text: str) -> None:
    assert (await post_sms(client, twilio_api.whatsapp_form(PERSON, text))).status_code == 200
    while await service.sender.send_due():
        pass


async def sms_person(service: Service) -> int:
    applied = await service.runtime.handle(Inbound("sms", PHONE_SMS, "SM" + "1" * 32, "hello"))
    assert applied is not None
    return applied.person_id


PHONE_SMS = "+447700900555"


async def new_code(service: Service, person_id: int) -> str:
    now = to_ts(service.runtime.clock.now())
    return await service.db.write(lambda c: links.create(c, service.cipher, person_id, now,
                                                         channel="whatsapp"))


async def test_link_on_whatsapp_continues_the_same_case(service: Service, fake: FakeTwilioAPI,
                                                        client: httpx.AsyncClient) -> None:
    person = await sms_person(service)
    code = await new_code(service, person)
    await say(service, client, f"LINK {code}")
    addresses = await rows(service, "SELECT person_id, channel FROM addresses ORDER BY id")
    assert addresses == [(person, "sms"), (person, "whatsapp")]
    assert fake.to(WA)[0]["body"].startswith("You are now connected here")
    alerts = await rows(service, "SELECT kind FROM alerts WHERE kind = 'channel_linked'")
    assert len(alerts) == 1
    await say(service, client, f"LINK {code}")  # used: refused, said so, nothing joined
    assert fake.to(WA)[-1]["body"].startswith("Sorry, this link cannot be used")
    assert len(await rows(service, "SELECT * FROM people")) == 1


async def test_the_same_number_on_sms_is_not_joined_without_a_link(
        service: Service, fake: FakeTwilioAPI, client: httpx.AsyncClient) -> None:
    await service.runtime.handle(Inbound("sms", PERSON, "SM" + "2" * 32, "hello"))
    await say(service, client, "hello")
    people = await rows(service, "SELECT person_id, channel FROM addresses ORDER BY id")
    assert [c for _, c in people] == ["sms", "whatsapp"] and people[0][0] != people[1][0]


def test_the_link_opens_whatsapp_with_the_words_written(service: Service) -> None:
    url = link_url(WHATSAPP_FROM, "abc_DEF-123")
    assert url == "https://wa.me/" + WHATSAPP_FROM.lstrip("+") + "?text=LINK%20abc_DEF-123"
    assert WhatsAppChannel.link_code("LINK abc_DEF-1234567890123") == "abc_DEF-1234567890123"
    assert WhatsAppChannel.link_code("  link   abc_DEF-1234567890123 ") == "abc_DEF-1234567890123"
    assert WhatsAppChannel.link_code("link me to you please") is None


async def test_whatsapp_refusals_are_classified(service: Service, fake: FakeTwilioAPI,
                                                client: httpx.AsyncClient) -> None:
    from bot.channels.base import Failed, Outgoing

    channel = service.sender.channels["whatsapp"]
    for code, undeliverable in ((63003, True), (63024, True), (63016, False)):
        fake.fail_next.append((400, code))
        result = await channel.send(Outgoing(7, PERSON, "hi", (), "en_GB"))
        assert isinstance(result, Failed) and result.undeliverable == undeliverable, code
        assert not result.opted_out
    assert fake.to(WA) == []


async def test_an_access_request_or_erasure_finds_the_whatsapp_person_by_number(
        service: Service) -> None:
    from bot.privacy import subject

    applied = await service.runtime.handle(Inbound("whatsapp", PERSON, "SM" + "3" * 32, "hi"))
    assert applied is not None
    for typed in (PERSON, "07700 900123", "whatsapp:" + PERSON):
        found = await service.db.read(lambda c, t=typed: subject.find_people(  # type: ignore[misc]
            c, service.cipher, t))
        assert found == [applied.person_id], typed
