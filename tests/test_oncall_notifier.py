"""The notifier on a virtual clock: retries after a failing SMTP server or a Twilio 5xx, a
permanent refusal on the dashboard, and nothing lost (nor sent twice) after a crash."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.channels.twilio_sms import TwilioChannel
from bot.clock import VirtualClock
from bot.config import Settings
from bot.oncall import notices
from bot.oncall.mailer import Mailer
from bot.oncall.notifier import Notifier
from bot.runtime import Inbound
from bot.service import Service
from tests.fakes import smtp_server, twilio_api
from tests.fakes.smtp_server import FakeSMTP
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.twilio_harness import PERSON
from tests.oncall_kit import ONCALL, ONCALL_EMAIL, RISK, audit, oncall_settings, rows


@contextlib.asynccontextmanager
async def world(settings: Settings, clock: VirtualClock, tw: FakeTwilioAPI, mail: FakeSMTP
                ) -> AsyncIterator[tuple[Service, Notifier]]:
    """A service with on-call settings, and a notifier on the real Twilio client and SMTP."""
    s = oncall_settings(settings, tw, mail)
    svc = await Service.open(s, clock, {})
    channel = TwilioChannel(s, svc.runtime, timeout=2.0)
    await channel.start()
    assert s.smtp is not None
    notifier = Notifier(svc.db, svc.cipher, clock, channel, Mailer(s.smtp, s.smtp_from))
    try:
        yield svc, notifier
    finally:
        await channel.stop()
        await svc.close()


async def statuses(svc: Service) -> list[tuple[str, str, int]]:
    found = await rows(svc, "SELECT channel, status, attempts FROM notices ORDER BY id")
    return [(n["channel"], n["status"], n["attempts"]) for n in found]


async def test_a_failing_mail_server_and_a_twilio_5xx_are_retried_until_they_succeed(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running(fail_next=2) as mail:
        async with twilio_api.running() as tw, world(settings, clock, tw, mail) as (svc, n):
            tw.fail_next = [(500, 20500), (503, 20500)]  # both on-call numbers, first try
            await svc.runtime.handle(Inbound("sms", PERSON, "SMr1", RISK))
            assert await n.send_due() == 3
            assert await statuses(svc) == [("sms", "pending", 1), ("sms", "pending", 1),
                                           ("email", "pending", 1)]
            assert await n.send_due() == 0  # not due again yet: backoff
            clock.advance_to(clock.now() + timedelta(seconds=5))
            assert await n.send_due() == 3  # the SMTP server says 451 once more
            assert await statuses(svc) == [("sms", "sent", 2), ("sms", "sent", 2),
                                           ("email", "pending", 2)]
            clock.advance_to(clock.now() + timedelta(seconds=10))
            assert await n.send_due() == 1
            assert await statuses(svc) == [("sms", "sent", 2), ("sms", "sent", 2),
                                           ("email", "sent", 3)]
            logged = [(a["action"], a["detail"]["to"], a["detail"].get("reason", ""))
                      for a in await audit(svc, "notice_attempt")]
    assert len(tw.to(ONCALL)) == 1 and len(mail.to(ONCALL_EMAIL)) == 1  # each exactly once
    assert mail.attempts == 3
    assert ("notice_attempt_failed", "RJBOT_ONCALL_SMS#1", "provider error 500") in logged
    assert logged.count(("notice_attempt_failed", "RJBOT_ONCALL_EMAIL#1",
                         "mail server said 451")) == 2


async def test_a_refused_address_fails_for_good_and_says_so_on_the_dashboard(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running(refuse=True) as mail:
        async with twilio_api.running() as tw, world(settings, clock, tw, mail) as (svc, n):
            await svc.runtime.handle(Inbound("sms", PERSON, "SMr2", RISK))
            await n.send_due()
            alerts = await rows(svc, "SELECT kind, person_id, data FROM alerts ORDER BY id")
            failed = await audit(svc, "notice_failed")
    assert [a["kind"] for a in alerts] == ["new_contact", "risk", "notice_failed"]
    assert failed[0]["detail"]["to"] == "RJBOT_ONCALL_EMAIL#1"
    assert failed[0]["detail"]["reason"] == "recipient refused (550)"
    assert ONCALL_EMAIL not in str(failed) and ONCALL_EMAIL not in str(alerts)


async def test_a_crash_between_claim_and_send_loses_no_notice(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running() as mail:
        async with twilio_api.running() as tw:
            async with world(settings, clock, tw, mail) as (svc, n):
                await svc.runtime.handle(Inbound("sms", PERSON, "SMr3", RISK))
                now = clock.now().timestamp()
                # claimed and committed; then the process dies before any provider call
                claimed = await svc.db.write(
                    lambda c: notices.claim_due(c, svc.cipher, now, 10, ("sms", "email")))
                assert len(claimed) == 3
            clock.advance_to(clock.now() + timedelta(minutes=1))
            async with world(settings, clock, tw, mail) as (svc, n):  # the restart
                assert await n.recover() == 3
                assert await n.send_due() == 3
                assert await statuses(svc) == [("sms", "sent", 2), ("sms", "sent", 2),
                                               ("email", "sent", 2)]
    assert len(tw.to(ONCALL)) == 1 and len(mail.to(ONCALL_EMAIL)) == 1


async def test_a_crash_after_twilio_took_the_sms_does_not_send_it_twice(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running() as mail:
        async with twilio_api.running() as tw:
            async with world(settings, clock, tw, mail) as (svc, n):
                await svc.runtime.handle(Inbound("sms", PERSON, "SMr4", RISK))
                now = clock.now().timestamp()
                claimed = await svc.db.write(
                    lambda c: notices.claim_due(c, svc.cipher, now, 10, ("sms",)))
                assert n.sms is not None
                for notice in claimed:  # Twilio makes the messages; we die before recording
                    await n.sms.send(n.outgoing(notice))
            async with world(settings, clock, tw, mail) as (svc, n):
                assert await n.recover() == 2
                assert await statuses(svc) == [("sms", "sent", 1), ("sms", "sent", 1),
                                               ("email", "pending", 0)]
                assert await n.send_due() == 1  # only the email is left
    assert len(tw.to(ONCALL)) == 1 and len(tw.to("+447700900457")) == 1
    assert len(mail.to(ONCALL_EMAIL)) == 1
