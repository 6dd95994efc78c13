"""Retention never erases someone who wrote recently, even if their case closed long ago."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import VirtualClock, to_ts
from bot.privacy import retention
from bot.runtime import Inbound
from bot.service import Service
from tests.flowkit import OPEN_CASE


async def test_recent_contact_after_an_old_closed_case_is_kept(service: Service,
                                                               clock: VirtualClock) -> None:
    for n, text in enumerate(OPEN_CASE):
        await service.runtime.handle(Inbound("sms", "+447700900802", f"b{n}", text))
    await service.db.write(lambda c: c.execute("UPDATE cases SET closed_at = ?",
                                               (to_ts(clock.now()),)))
    clock.advance_to(clock.now() + timedelta(days=731))
    await service.runtime.handle(Inbound("sms", "+447700900802", "new", "hello, it's me again"))
    now = to_ts(clock.now())
    policy = retention.Retention()
    assert await service.db.read(lambda c: retention.due_for_erasure(c, policy, now)) == []
    later = now + 731 * retention.DAY          # and once they have been quiet long enough
    assert await service.db.read(lambda c: retention.due_for_erasure(c, policy, later)) == [1]
