"""End to end: `python -m bot serve` in a subprocess, SMS pointed at the fake Twilio API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.fakes import twilio_api
from tests.fakes.twilio_api import AUTH_TOKEN
from tests.serve_kit import served

PERSON = "+447700900456"
pytestmark = pytest.mark.slow


async def test_serve_answers_a_signed_sms_once_and_refuses_a_forgery(tmp_path: Path) -> None:
    async with asyncio.timeout(60), served(tmp_path) as server, \
            httpx.AsyncClient(base_url=server.base, timeout=5) as client:
        fake, base = server.twilio, server.base
        assert (await client.get("/healthz")).json()["channels"]["sms"] == "on"
        url = base + "/webhooks/twilio/sms"
        form = twilio_api.inbound_form(PERSON, "hello from the test")
        forged = {"X-Twilio-Signature": twilio_api.sign("0" * 32, url, form)}
        assert (await client.post(url, data=form, headers=forged)).status_code == 403
        assert (await client.post(url, data=form)).status_code == 403
        await asyncio.sleep(0.5)
        assert fake.created == []

        signed = {"X-Twilio-Signature": twilio_api.sign(AUTH_TOKEN, url, form)}
        answer = await client.post(url, data=form, headers=signed)
        assert answer.status_code == 200 and "<Response/>" in answer.text
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2, 15)
        assert fake.to(PERSON)[-1]["body"].endswith("3. No, it is not safe")
        count = len(fake.to(PERSON))

        assert (await client.post(url, data=form, headers=signed)).status_code == 200
        await asyncio.sleep(1.5)  # time enough for another reply, were one to be sent
        assert len(fake.to(PERSON)) == count == 2

    log = (tmp_path / "serve.log").read_text()
    assert "channel sms: started" in log
    for secret in (AUTH_TOKEN, PERSON, PERSON[3:], "hello from the test"):
        assert secret not in log, "the log holds a token, a number or message text"
