"""End to end: `python -m bot serve` in a subprocess with WhatsApp set in its environment."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes import telegram_api, twilio_api
from tests.fakes.twilio_api import AUTH_TOKEN, WHATSAPP_FROM
from tests.fakes.twilio_harness import TEMPLATE_BODY, TEMPLATE_SID
from tests.serve_kit import Served

PERSON = "+447700900457"
pytestmark = pytest.mark.slow


@dataclass
class WithWhatsApp(Served):
    def env(self) -> dict[str, str]:
        return {**super().env(), "TWILIO_WHATSAPP_FROM": "whatsapp:" + WHATSAPP_FROM,
                "TWILIO_WHATSAPP_TEMPLATE_SID": TEMPLATE_SID}


async def test_serve_takes_whatsapp_from_the_environment(tmp_path: Path) -> None:
    async with asyncio.timeout(60), telegram_api.running() as tg, \
            twilio_api.running() as fake:
        fake.contents[TEMPLATE_SID] = TEMPLATE_BODY
        server = WithWhatsApp(tmp_path, tg, fake)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=5) as client:
                channels = (await client.get("/healthz")).json()["channels"]
                assert channels["whatsapp"] == "on" and channels["sms"] == "on"
                url = server.base + "/webhooks/twilio/sms"
                form = twilio_api.whatsapp_form(PERSON, "hello on whatsapp")
                signed = {"X-Twilio-Signature": twilio_api.sign(AUTH_TOKEN, url, form)}
                assert (await client.post(url, data=form, headers=signed)).status_code == 200
                await fake.wait_for(lambda: len(fake.to("whatsapp:" + PERSON)) >= 2, 15)
        finally:
            await server.stop()
    sent = fake.to("whatsapp:" + PERSON)
    assert all(m["from"] == "whatsapp:" + WHATSAPP_FROM for m in sent)
    assert fake.to(PERSON) == []  # nothing by SMS
    log = (tmp_path / "serve.log").read_text()
    assert "channel whatsapp: started" in log
    for secret in (AUTH_TOKEN, PERSON, PERSON[3:], "hello on whatsapp"):
        assert secret not in log
