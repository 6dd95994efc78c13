"""`rjbot serve` as a subprocess: a risk text through the signed Twilio webhook reaches the
on-call number (fake Twilio API) and address (aiosmtpd) within a minute; the log says on-call
notification is on, and carries no number, address or message text."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes import smtp_server, telegram_api, twilio_api
from tests.fakes.twilio_api import inbound_form
from tests.oncall_kit import ONCALL, ONCALL_EMAIL, RISK, SENDER
from tests.serve_kit import Served, deliver, sms_request

PERSON = "+447700900321"
pytestmark = pytest.mark.slow


@dataclass
class OnCallServed(Served):
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra}


async def test_serve_tells_the_people_on_call_of_a_risk_text(tmp_path: Path) -> None:
    with smtp_server.running() as mail:
        async with telegram_api.running() as tg, twilio_api.running() as tw:
            server = OnCallServed(tmp_path, tg, tw, extra={
                "RJBOT_ONCALL_SMS": "07700 900456", "RJBOT_ONCALL_EMAIL": ONCALL_EMAIL,
                "RJBOT_SMTP_URL": mail.url, "RJBOT_SMTP_FROM": SENDER})
            await server.start()
            try:
                async with httpx.AsyncClient(base_url=server.base) as client:
                    started = time.monotonic()
                    await deliver(client, sms_request(server, inbound_form(PERSON, RISK)))
                    await tw.wait_for(lambda: bool(tw.to(ONCALL)), 60)
                    await mail.wait_for(lambda: bool(mail.to(ONCALL_EMAIL)), 60)
                    took = time.monotonic() - started
                    await tw.wait_for(lambda: bool(tw.to(PERSON)), 30)
            finally:
                await server.stop()
    assert took < 60
    assert tw.to(ONCALL)[0]["body"] == (
        f"Urgent alert waiting in the console: enquiry 1 {server.base}/console/")
    log = (tmp_path / "serve.log").read_text()
    assert "on-call notification is on: 1 SMS and 1 email recipients" in log
    for secret in (ONCALL, ONCALL[3:], "7700 900456", ONCALL_EMAIL, PERSON, PERSON[3:], RISK):
        assert secret not in log
