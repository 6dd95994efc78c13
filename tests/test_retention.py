"""Retention: old enquiries and long-closed cases lose their content; statistics survive."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import VirtualClock, from_ts, to_ts
from bot.config import Settings
from bot.privacy import retention
from bot.runtime import Inbound
from bot.service import Service
from bot.store import audit, provider
from bot.web import create_app, start_retention
from tests.flowkit import OPEN_CASE


async def test_retention_erases_only_what_is_due(service: Service, clock: VirtualClock) -> None:
    h = service.runtime.handle
    await h(Inbound("sms", "+447700900801", "a1", "hello"))  # an enquiry that stops
    for n, text in enumerate(OPEN_CASE):  # a case, later closed
        await h(Inbound("sms", "+447700900802", f"b{n}", text))
    for n, text in enumerate(OPEN_CASE):  # a case still open
        await h(Inbound("sms", "+447700900803", f"c{n}", text))
    await service.db.write(lambda c: c.execute(
        "UPDATE cases SET closed_at = ? WHERE person_id = 2", (to_ts(clock.now()),)))
    policy = retention.Retention(enquiry_days=90, closed_case_days=730)

    clock.advance_to(clock.now() + timedelta(days=91))
    now = to_ts(clock.now())
    assert await service.db.write(lambda c: retention.sweep(c, policy, now)) == 1
    clock.advance_to(clock.now() + timedelta(days=730))
    now = to_ts(clock.now())
    assert await service.db.write(lambda c: retention.sweep(c, policy, now)) == 1

    statuses = await service.db.read(
        lambda c: dict(c.execute("SELECT id, status FROM people").fetchall()))
    assert statuses == {1: "erased", 2: "erased", 3: "active"}
    empty = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM messages WHERE person_id IN (1, 2) AND length(body_enc) > 0"
    ).fetchone()[0])
    assert empty == 0
    stats = await service.db.read(retention.statistics)
    assert stats["cases_by_stage"] == {"new_contact": 3}  # the enquiry has its case too
    assert stats["people_by_channel"] == {"sms": 3}


class ForgetfulSms(ConsoleChannel):
    """A channel whose provider keeps copies: records what it was asked to delete."""

    def __init__(self, refuse: set[str]) -> None:
        super().__init__("sms", lambda _: None)
        self.asked: list[str] = []
        self.refuse = refuse

    async def forget(self, provider_id: str) -> bool:
        self.asked.append(provider_id)
        return provider_id not in self.refuse


async def test_the_daily_job_erases_deletes_final_provider_copies_and_reschedules(
    settings: Settings, service: Service, clock: VirtualClock
) -> None:
    await start_retention(settings, service)
    sms = ForgetfulSms(refuse={"SM3"})
    service.sender.channels["sms"] = sms
    await service.runtime.handle(Inbound("sms", "+447700900801", "SMin1", "hello"))
    await service.runtime.handle(Inbound("sms", "+447700900801", "SMin2", "Quillbright"))
    statuses = {1: "delivered", 2: "sent", 3: "undelivered"}  # 2 may still change

    def delivered(c: sqlite3.Connection) -> list[int]:
        ids = [r[0] for r in c.execute("SELECT id FROM outbox ORDER BY id")]
        for oid in ids:
            c.execute("UPDATE outbox SET status = 'sent', provider_id = ? WHERE id = ?",
                      (f"SM{oid}", oid))
            provider.record_sent(c, "sms", oid, [f"SM{oid}"], statuses.get(oid, "delivered"),
                                 to_ts(clock.now()))
        return ids

    outbox_ids = await service.db.write(delivered)
    assert len(outbox_ids) >= 3

    clock.advance_to(clock.now() + timedelta(days=1))  # the first sweep: nothing is old yet
    await service.runtime.fire_due()
    expected = [f"SM{o}" for o in outbox_ids if o != 2]
    assert sms.asked == [*expected, "SMin1", "SMin2"]  # what they sent is a copy too
    received = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM inbound WHERE provider_forgotten_at IS NOT NULL").fetchone()[0])
    assert received == 2
    forgotten = await service.db.read(lambda c: [r[0] for r in c.execute(
        "SELECT outbox_id FROM provider_messages WHERE forgotten_at IS NOT NULL"
        " ORDER BY outbox_id")])
    assert forgotten == [o for o in outbox_ids if o not in (2, 3)]
    status = await service.db.read(
        lambda c: c.execute("SELECT status FROM people WHERE id = 1").fetchone()[0])
    assert status == "active"

    await service.db.write(lambda c: c.execute(
        "INSERT INTO login_failures (account_hash, client_hash, known, at)"
        " VALUES (x'01', x'02', 0, ?)",
        (to_ts(clock.now()),)))
    clock.advance_to(clock.now() + timedelta(days=91))
    await service.runtime.fire_due()
    assert await service.db.read(
        lambda c: c.execute("SELECT count(*) FROM login_failures").fetchone()[0]) == 0
    assert sms.asked.count("SM1") == 1 and sms.asked.count("SM3") == 2  # refused: asked again
    assert sms.asked.count("SMin1") == 1
    rows = await service.db.read(lambda c: c.execute(
        "SELECT status, due_at FROM jobs WHERE kind = 'retention' ORDER BY id").fetchall())
    assert [r[0] for r in rows].count("pending") == 1  # exactly one next sweep
    pending_due = next(r[1] for r in rows if r[0] == "pending")
    local = from_ts(pending_due).astimezone(ZoneInfo("Europe/London"))
    assert (local.hour, local.minute) == (3, 30) and from_ts(pending_due) > clock.now()
    actions = await service.db.read(lambda c: [r[0] for r in c.execute(
        "SELECT action FROM audit ORDER BY id")])
    assert "erased" in actions and actions.count("retention_sweep") >= 2
    assert actions.count("provider_copy_deleted") == len(outbox_ids) - 2 + 2  # not 2, 3
    status = await service.db.read(
        lambda c: c.execute("SELECT status FROM people WHERE id = 1").fetchone()[0])
    assert status == "erased"
    assert (await service.db.read(audit.verify)).ok


async def test_start_up_keeps_one_pending_sweep_with_the_current_settings(
    settings: Settings
) -> None:
    for days in (90, 30):
        app = create_app(replace(settings, retention_enquiry_days=days))
        async with app.router.lifespan_context(app):
            pass
    conn = sqlite3.connect(settings.database)
    rows = conn.execute("SELECT data, due_at FROM jobs WHERE kind = 'retention'"
                        " AND status = 'pending'").fetchall()
    conn.close()
    assert len(rows) == 1 and json.loads(rows[0][0])["enquiry_days"] == 30
    local = from_ts(rows[0][1]).astimezone(ZoneInfo("Europe/London"))
    assert (local.hour, local.minute) == (3, 30)


def test_retention_settings_come_from_the_environment() -> None:
    s = Settings.from_env({"RJBOT_RETENTION_ENQUIRY_DAYS": "30",
                           "RJBOT_RETENTION_CLOSED_DAYS": "365"})
    assert (s.retention_enquiry_days, s.retention_closed_days) == (30, 365)
    assert Settings.from_env({}).retention_closed_days == 730
    with pytest.raises(ValueError, match="RJBOT_RETENTION_CLOSED_DAYS"):
        Settings.from_env({"RJBOT_RETENTION_CLOSED_DAYS": "-1"})


def test_next_quiet_time_is_local_and_always_ahead() -> None:
    summer = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 03:00 BST: 03:30 BST is 02:30 UTC
    assert retention.next_quiet_time(summer, "Europe/London") == summer.replace(minute=30)
    after = datetime(2026, 7, 1, 2, 30, tzinfo=UTC)
    assert retention.next_quiet_time(after, "Europe/London") == datetime(
        2026, 7, 2, 2, 30, tzinfo=UTC)
