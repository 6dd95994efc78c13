"""The fake Twilio API answers the real `twilio` client as Twilio would (other tests rely on it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.twilio_http import TwilioHttp
from tests.fakes import twilio_api
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilioAPI, Faults

TO = "+447700900123"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    http = TwilioHttp(timeout=2)
    yield Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    await http.close()


def pointed(client: Client, fake: FakeTwilioAPI) -> Client:
    client.api.base_url = fake.base_url
    return client


async def test_create_list_fetch_delete(client: Client) -> None:
    async with twilio_api.running() as fake:
        api = pointed(client, fake)
        made = await api.messages.create_async(to=TO, from_=FROM_NUMBER, body="hi there")
        assert made.sid.startswith("SM") and made.status == "queued" and made.to == TO
        assert made.date_created is not None
        listed = await api.messages.list_async(to=TO, limit=20)
        assert [m.sid for m in listed] == [made.sid]
        assert (await api.messages(made.sid).fetch_async()).body == "hi there"
        assert await api.messages(made.sid).delete_async() is True
        assert fake.deleted == [made.sid] and not await api.messages.list_async(to=TO)
        assert fake.to(TO)[0]["body"] == "hi there"


@pytest.mark.parametrize("code", [21610, 21211, 21614])
async def test_error_codes_reach_the_client(client: Client, code: int) -> None:
    async with twilio_api.running(error_for={TO: code}) as fake:
        with pytest.raises(TwilioRestException) as caught:
            await pointed(client, fake).messages.create_async(to=TO, from_=FROM_NUMBER,
                                                               body="x")
        assert caught.value.code == code and caught.value.status == 400
        assert fake.created == []


async def test_wrong_credentials_are_refused(client: Client) -> None:
    async with twilio_api.running(auth_token="another") as fake:
        with pytest.raises(TwilioRestException) as caught:
            await pointed(client, fake).messages.create_async(to=TO, from_=FROM_NUMBER,
                                                               body="x")
        assert caught.value.status == 401


async def test_injected_failures_come_at_about_their_rate(client: Client) -> None:
    faults = Faults(server_error=0.2, rate_limited=0.2, seed=7)
    async with twilio_api.running(faults=faults) as fake:
        statuses = []
        for _ in range(100):
            try:
                await pointed(client, fake).messages.create_async(to=TO, from_=FROM_NUMBER,
                                                                   body="x")
                statuses.append(201)
            except TwilioRestException as exc:
                statuses.append(exc.status)
        assert 8 < statuses.count(500) < 35 and 8 < statuses.count(429) < 35
        assert len(fake.created) == statuses.count(201)


async def test_injected_error_codes(client: Client) -> None:
    async with twilio_api.running(faults=Faults(codes={21610: 0.3, 21614: 0.3}, seed=5)) as fake:
        codes = []
        for _ in range(60):
            try:
                await pointed(client, fake).messages.create_async(to=TO, from_=FROM_NUMBER,
                                                                   body="x")
                codes.append(0)
            except TwilioRestException as exc:
                codes.append(exc.code)
        assert codes.count(21610) > 8 and codes.count(21614) > 8 and codes.count(0) > 8


async def test_status_callbacks_are_signed(client: Client) -> None:
    got: list[tuple[str, dict[str, str], str]] = []
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(request.content.decode()))
        got.append((str(request.url), form, request.headers["X-Twilio-Signature"]))
        return httpx.Response(204)

    async with twilio_api.running(callbacks=True,
                                  callback_transport=httpx.MockTransport(handler)) as fake:
        url = "https://rj.example/webhooks/twilio/status"
        made = await pointed(client, fake).messages.create_async(
            to=TO, from_=FROM_NUMBER, body="x", status_callback=url)
        await fake.wait_for(lambda: len(got) == 3)
    validator = RequestValidator(AUTH_TOKEN)
    assert [g[1]["MessageStatus"] for g in got] == ["queued", "sent", "delivered"]
    assert all(g[1]["MessageSid"] == made.sid for g in got)
    assert all(validator.validate(u, f, s) for u, f, s in got)
