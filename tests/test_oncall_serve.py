"""`rjbot serve` as a subprocess: a risk text through the signed Twilio webhook reaches the
on-call number (fake Twilio API) and address (aiosmtpd) within a minute; the log says on-call
notification is on, and carries no number, address or message text."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes import smtp_server, telegram_api, twilio_api
from tests.fakes.twilio_api import Faults, inbound_form
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
        f"Urgent alert waiting in the console: case 1 {server.base}/console/cases/1")
    log = (tmp_path / "serve.log").read_text()
    assert "on-call notification is on: 1 SMS and 1 email recipients" in log
    for secret in (ONCALL, ONCALL[3:], "7700 900456", ONCALL_EMAIL, PERSON, PERSON[3:], RISK):
        assert secret not in log


async def test_a_notice_in_flight_when_serve_is_killed_is_settled_once_after_restart(
        tmp_path: Path) -> None:
    """SIGKILL while Twilio holds the on-call SMS but before rjbot recorded it: after the
    restart the notice is found at Twilio and marked sent, not texted a second time."""
    async with telegram_api.running() as tg, twilio_api.running(
            faults=Faults(hang_after_create=1.0)) as tw:
        server = OnCallServed(tmp_path, tg, tw, extra={"RJBOT_ONCALL_SMS": ONCALL})
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.base) as client:
                await deliver(client, sms_request(server, inbound_form(PERSON, RISK)))
                await tw.wait_for(lambda: bool(tw.to(ONCALL)), 30)
                await server.kill()  # the create call is still hanging: notice `sending`
            assert notice_statuses(server.db) == ["sending"]
            tw.faults = Faults()
            await server.start()
            async with asyncio.timeout(30):
                while notice_statuses(server.db) != ["sent"]:
                    await asyncio.sleep(0.1)
        finally:
            await server.stop()
    assert len(tw.to(ONCALL)) == 1
    assert "recovered 1 notices left in flight" in (tmp_path / "serve.log").read_text()


def notice_statuses(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT status FROM notices ORDER BY id")]
