"""A risk message through the real app reaches the people on call by SMS and email at once.

The real runtime, the real Twilio client against the fake Twilio API, aiosmtplib against a
real SMTP server on 127.0.0.1; the notifier started by the app's lifespan, as in `rjbot serve`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pytest

from bot.channels.segments import segments
from bot.config import Settings
from bot.runtime import Inbound
from tests.console_kit import console, new_contact, service_of
from tests.fakes import smtp_server, twilio_api
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL
from tests.oncall_kit import (
    ONCALL,
    ONCALL_EMAIL,
    RISK,
    SENDER,
    audit,
    oncall_settings,
    rows,
    sent_notices,
)

PASSWORD = "s3cret-Smtp-pass"


async def test_a_risk_message_reaches_everyone_on_call_within_a_minute(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with smtp_server.running(login=("rjbot", PASSWORD)) as mail:
        async with twilio_api.running() as tw:
            url = f"smtp://rjbot:{PASSWORD}@127.0.0.1:{mail.port}"
            s = oncall_settings(settings, tw, mail, smtp_url=url)
            with caplog.at_level(logging.DEBUG):
                async with console(s) as (app, _):
                    svc = service_of(app)
                    started = time.monotonic()
                    await svc.runtime.handle(Inbound("sms", PERSON, "SMrisk0001", RISK))
                    await tw.wait_for(lambda: len(tw.to(ONCALL)) == 1
                                      and len(tw.to("+447700900457")) == 1, 60)
                    await mail.wait_for(lambda: len(mail.to(ONCALL_EMAIL)) == 1, 60)
                    took = time.monotonic() - started
                    await tw.wait_for(lambda: bool(tw.to(PERSON)))
                    await sent_notices(svc, 3)
                    logged = await audit(svc)
    assert took < 60
    text = f"Urgent alert waiting in the console: case 1 {PUBLIC_URL}/console/cases/1"
    assert [m["body"] for m in tw.to(ONCALL)] == [text]
    assert "999" in tw.to(PERSON)[0]["body"]  # the person had the safety reply too
    email = mail.to(ONCALL_EMAIL)[0]
    assert email["From"] == SENDER and email["Subject"] == "Urgent alert waiting"
    assert email.get_content().strip() == text
    assert mail.logins == [True]  # the URL's user and password were used
    # audited: queued and sent, each naming the setting entry, never the number or address
    assert sorted((a["action"], a["detail"]["to"]) for a in logged) == [
        ("notice_queued", "RJBOT_ONCALL_EMAIL#1"), ("notice_queued", "RJBOT_ONCALL_SMS#1"),
        ("notice_queued", "RJBOT_ONCALL_SMS#2"), ("notice_sent", "RJBOT_ONCALL_EMAIL#1"),
        ("notice_sent", "RJBOT_ONCALL_SMS#1"), ("notice_sent", "RJBOT_ONCALL_SMS#2")]
    assert all(a["person_id"] == 1 for a in logged)
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # the fake server's
    everything = "\n".join(r.getMessage() + str(r.args) for r in ours)
    assert ours
    for secret in (ONCALL, ONCALL[3:], "7700 900457", "7700900457", ONCALL_EMAIL, PERSON,
                   PERSON[3:], RISK, "kill", PASSWORD):
        assert secret not in everything, f"{secret!r} leaked into the logs"
        assert secret not in str(logged)


async def test_a_notice_names_the_case_once_there_is_one(settings: Settings) -> None:
    async with twilio_api.running() as tw:
        s = replace(oncall_settings(settings, tw, None), oncall_sms=(ONCALL,))
        async with console(s) as (app, _):
            case_id = await new_contact(app)
            svc = service_of(app)
            await svc.runtime.handle(Inbound("sms", "+447700900123", "SMrisk0002",
                                             "I am in danger, he is outside"))
            await tw.wait_for(lambda: bool(tw.to(ONCALL)), 60)
            queued = await rows(svc, "SELECT recipient, address_enc, body FROM notices")
    page = f"{PUBLIC_URL}/console/cases/{case_id}"
    body = f"Urgent alert waiting in the console: case {case_id} {page}"
    assert [m["body"] for m in tw.to(ONCALL)] == [body]
    assert "Sam" not in body and "outside" not in body
    assert segments(body).count == 1 and segments(body).encoding == "GSM-7"
    assert not any(w in body.lower() for w in ("crime", "offender", "restorative", "court"))
    # the number is sealed in the notice row; the recipient column names the setting entry
    assert queued[0]["recipient"] == "RJBOT_ONCALL_SMS#1"
    assert ONCALL.encode() not in queued[0]["address_enc"]


async def test_without_on_call_settings_nothing_is_sent_and_serve_says_so_once(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    async with twilio_api.running() as tw:
        s = oncall_settings(settings, tw, None)
        s = replace(s, oncall_sms=())
        with caplog.at_level(logging.INFO):
            async with console(s) as (app, _):
                svc = service_of(app)
                await svc.runtime.handle(Inbound("sms", PERSON, "SMrisk0003", RISK))
                await tw.wait_for(lambda: bool(tw.to(PERSON)))
                queued = await rows(svc, "SELECT id FROM notices")
                jobs = await rows(svc, "SELECT kind FROM jobs WHERE kind = 'risk_unseen'")
    assert queued == [] and [m["to"] for m in tw.created] == [PERSON]
    assert app.state.notifier is None
    said = [r.getMessage() for r in caplog.records if "on-call notification" in r.getMessage()]
    assert len(said) == 1
    assert "off" in said[0] and "RJBOT_ONCALL_SMS" in said[0] and "RJBOT_ONCALL_EMAIL" in said[0]
    assert jobs == [{"kind": "risk_unseen"}]  # the dashboard escalation still stands
