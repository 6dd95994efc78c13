"""Retention: old enquiries and long-closed cases lose their content; statistics survive."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import VirtualClock, to_ts
from bot.privacy import retention
from bot.runtime import Inbound
from bot.service import Service
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
    assert stats["cases_by_stage"] == {"new_contact": 2}
    assert stats["people_by_channel"] == {"sms": 3}
