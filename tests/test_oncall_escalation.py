"""A risk alert nobody marks seen within 15 minutes goes to the supervisors; one marked seen
in the console does not. The escalation is a job in the jobs table: it survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import VirtualClock
from bot.config import Settings
from bot.console.auth import hash_password
from bot.oncall.mailer import Mailer
from bot.oncall.notifier import Notifier
from bot.runtime import Inbound
from bot.service import Service
from bot.store import casework, facilitators
from tests.console_kit import add_user, console, csrf_of, login, service_of
from tests.fakes import smtp_server
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL
from tests.oncall_kit import ONCALL_EMAIL, RISK, audit, oncall_settings, rows, sent_notices

SUPERVISOR = "lead@rj.example.org"
UNSEEN = "Urgent alert not seen for 15 minutes: case 1"


async def test_an_unseen_risk_alert_escalates_after_15_minutes_even_across_a_restart(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running() as mail:
        s = oncall_settings(settings, None, mail)
        svc = await Service.open(s, clock, {})
        try:
            hashed = hash_password("a long enough password")
            sup = await svc.db.write(lambda c: facilitators.add(
                c, SUPERVISOR, "Lead", hashed, True, 0.0))
            await svc.db.write(lambda c: facilitators.add(
                c, "worker@rj.example.org", "Worker", hashed, False, 0.0))
            await svc.runtime.handle(Inbound("sms", PERSON, "SMe1", RISK))
        finally:
            await svc.close()
        svc = await Service.open(s, clock, {})  # restarted: the job is in the table
        try:
            started = clock.now()
            clock.advance_to(started + timedelta(minutes=15) - timedelta(seconds=1))
            assert await svc.runtime.fire_due() == 0
            assert await rows(svc, "SELECT id FROM alerts WHERE kind = 'risk_unseen'") == []
            clock.advance_to(started + timedelta(minutes=15, seconds=1))
            await svc.runtime.fire_due()
            raised = await rows(svc, "SELECT kind, person_id, data FROM alerts"
                                " WHERE kind = 'risk_unseen'")
            queued = await rows(svc, "SELECT recipient, address_enc, body FROM notices"
                                " WHERE recipient LIKE 'facilitator:%'")
            assert s.smtp is not None
            notifier = Notifier(svc.db, svc.cipher, clock, None, Mailer(s.smtp, s.smtp_from))
            assert await notifier.send_due() == 2  # the on-call address (still pending) too
            escalated = await audit(svc, "risk_escalated")
        finally:
            await svc.close()
    assert raised == [{"kind": "risk_unseen", "person_id": 1, "data": '{"alert": 2}'}]
    assert queued == [{"recipient": f"facilitator:{sup}", "address_enc": None,
                       "body": f"{UNSEEN} {PUBLIC_URL}/console/cases/1"}]
    assert [m.get_content().strip() for m in mail.to(SUPERVISOR)] == [queued[0]["body"]]
    assert len(mail.to(ONCALL_EMAIL)) == 1 and len(mail.received) == 2  # the worker: nothing
    assert escalated[0]["detail"] == {"alert": 2, "raised": 3, "notices": [2]}


async def test_marking_the_alert_seen_in_the_console_stops_the_escalation(
        settings: Settings) -> None:
    with smtp_server.running() as mail:
        async with console(oncall_settings(settings, None, mail),
                           base_url="https://testserver") as (app, client):
            svc = service_of(app)
            await add_user(app, SUPERVISOR, "Lead", supervisor=True)
            await svc.runtime.handle(Inbound("sms", PERSON, "SMe2", RISK))
            await login(client, SUPERVISOR)
            page = (await client.get("/console/")).text
            assert "Mark seen" in page
            # alert 1 is the new contact (the case opens at the first message); 2 the risk
            forged = await client.post("/console/alerts/2/seen", data={"csrf": "0" * 64})
            assert forged.status_code == 403
            unseen = await rows(svc, "SELECT seen_at FROM alerts WHERE id = 2")
            assert unseen[0]["seen_at"] is None
            done = await client.post("/console/alerts/2/seen", data={"csrf": csrf_of(page)})
            assert done.status_code == 303
            page = (await client.get("/console/")).text
            svc.runtime.clock = VirtualClock(datetime.now(UTC) + timedelta(minutes=16))
            await svc.runtime.fire_due()
            await sent_notices(svc, 1)
            alerts = await rows(svc, "SELECT kind, seen_by FROM alerts WHERE kind != 'new_contact'"
                                " ORDER BY id")
            seen = await audit(svc, "alert_seen")
            jobs = await rows(svc, "SELECT status FROM jobs WHERE kind = 'risk_unseen'")
    assert f"Seen by {SUPERVISOR}" in page and "Mark seen<" not in page
    assert alerts == [{"kind": "risk", "seen_by": SUPERVISOR}]  # no risk_unseen
    assert jobs == [{"status": "done"}]
    assert seen[0]["action"] == "alert_seen" and seen[0]["person_id"] == 1
    assert seen[0]["detail"] == {"alert": 2, "kind": "risk", "alerts": [2]}
    assert mail.to(SUPERVISOR) == [] and len(mail.to(ONCALL_EMAIL)) == 1


async def test_unseen_through_the_app_the_supervisor_is_emailed_and_the_dashboard_shows_it(
        settings: Settings) -> None:
    with smtp_server.running() as mail:
        async with console(oncall_settings(settings, None, mail),
                           base_url="https://testserver") as (app, client):
            svc = service_of(app)
            await add_user(app, SUPERVISOR, "Lead", supervisor=True)
            await svc.runtime.handle(Inbound("sms", PERSON, "SMe3", RISK))
            later = VirtualClock(datetime.now(UTC) + timedelta(minutes=16))
            svc.runtime.clock = app.state.notifier.clock = later  # 16 minutes on, for both
            await svc.runtime.fire_due()
            await mail.wait_for(lambda: bool(mail.to(SUPERVISOR)), 60)
            await login(client, SUPERVISOR)
            page = (await client.get("/console/")).text
    assert "risk unseen" in page
    assert mail.to(SUPERVISOR)[0].get_content().strip().startswith(UNSEEN)


async def test_one_notice_per_person_while_unseen_and_seen_covers_their_earlier_alerts(
        settings: Settings, clock: VirtualClock) -> None:
    with smtp_server.running() as mail:
        s = oncall_settings(settings, None, mail)
        svc = await Service.open(s, clock, {})
        try:
            start = clock.now()
            for n, minutes in enumerate((0, 3, 6)):  # three risk texts, six minutes
                clock.advance_to(start + timedelta(minutes=minutes))
                await svc.runtime.handle(Inbound("sms", PERSON, f"SMc{n}", RISK))
            await svc.runtime.handle(Inbound("sms", "+447700900999", "SMc9", RISK))  # another
            told = await rows(svc, "SELECT alert_id FROM notices ORDER BY id")
            coalesced = await audit(svc, "notices_coalesced")
            # a facilitator marks the newest alert of the first person seen: all three are
            marked = await svc.db.write(lambda c: casework.mark_seen(c, 4, "f@x.org", 0.0))
            clock.advance_to(start + timedelta(minutes=30))
            await svc.runtime.fire_due()
            unseen = await rows(svc, "SELECT person_id, data FROM alerts"
                                " WHERE kind = 'risk_unseen'")
            # seen now: the person's next risk text tells the people on call again
            await svc.runtime.handle(Inbound("sms", PERSON, "SMc5", RISK))
            again = await rows(svc, "SELECT alert_id FROM notices WHERE alert_id = 8")
        finally:
            await svc.close()
    # alerts 1 and 5 are the two new contacts (a case opens at the first message)
    assert told == [{"alert_id": 2}, {"alert_id": 6}]
    assert [a["detail"] for a in coalesced] == [{"alert": 3, "told_for": 2},
                                                {"alert": 4, "told_for": 2}]
    assert marked == [2, 3, 4]
    assert unseen == [{"person_id": 2, "data": '{"alert": 6}'}]  # only the other person's
    assert again == [{"alert_id": 8}]
