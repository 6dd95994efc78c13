"""The sender checks the person's state when it claims a row, not only when it was queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channels.base import Outgoing, Retry, SendResult, Sent
from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound, Runtime
from bot.service import Service

P = "+447700900123"


class ChangesMindMidSend:
    """The first scheduled send times out; while it is in flight the person writes `text`."""

    name = "sms"

    def __init__(self, runtime: Runtime, text: str) -> None:
        self.runtime, self.text, self.tries = runtime, text, 0
        self.delivered: list[str] = []

    async def send(self, out: Outgoing) -> SendResult:
        self.tries += 1
        if out.scheduled and self.tries == 1:
            await self.runtime.handle(Inbound("sms", P, f"SMin{self.tries}", self.text))
            return Retry("TimeoutError")
        self.delivered.append(out.text)
        return Sent(f"SM{self.tries}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None


async def _person(service: Service, first: str = "hello") -> int:
    await service.runtime.handle(Inbound("sms", P, "SM1", first))
    await service.db.write(lambda c: c.execute("UPDATE outbox SET status = 'sent'"))
    return int(await service.db.read(
        lambda c: c.execute("SELECT id FROM people").fetchone()[0]))


async def _rows(service: Service) -> list[tuple[Any, ...]]:
    return await service.db.read(lambda c: [tuple(r) for r in c.execute(
        "SELECT id, priority, status FROM outbox WHERE status != 'sent' ORDER BY id")])


async def _audit(service: Service, action: str) -> list[str]:
    return await service.db.read(lambda c: [r[0] for r in c.execute(
        "SELECT detail FROM audit WHERE action = ? ORDER BY id", (action,))])


async def _drain(service: Service, clock: VirtualClock, times: int = 5) -> None:
    for _ in range(times):
        await service.sender.send_due()
        clock.advance_to(clock.now() + timedelta(minutes=11))


async def test_check_in_in_flight_at_withdraw_is_cancelled_on_its_retry(
        service: Service, clock: VirtualClock) -> None:
    pid = await _person(service)
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    ch = ChangesMindMidSend(service.runtime, "withdraw")
    service.sender.channels = {"sms": ch}
    await _drain(service, clock)
    status = await service.db.read(lambda c: c.execute("SELECT status FROM people").fetchone()[0])
    assert status == "withdrawn"
    assert "Checking in" not in ch.delivered, ch.delivered
    assert ch.delivered, "the withdrawal confirmation (an answer) still goes"
    assert any('"reason":"withdrawn"' in d for d in await _audit(service, "outbox_cancelled"))


async def test_check_in_in_flight_at_pause_is_held_until_resume(
        service: Service, clock: VirtualClock) -> None:
    pid = await _person(service)
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    ch = ChangesMindMidSend(service.runtime, "pause")
    service.sender.channels = {"sms": ch}
    await _drain(service, clock)
    assert "Checking in" not in ch.delivered
    assert [r[1:] for r in await _rows(service)] == [(1, "held")]
    assert await _audit(service, "outbox_held")
    await service.runtime.handle(Inbound("sms", P, "SMr", "resume"))
    await _drain(service, clock)
    assert "Checking in" in ch.delivered


async def test_check_in_in_flight_when_told_not_safe_is_cancelled(
        service: Service, clock: VirtualClock) -> None:
    pid = await _person(service)  # the bot has asked whether it is safe to message here
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    ch = ChangesMindMidSend(service.runtime, "not safe")
    service.sender.channels = {"sms": ch}
    await _drain(service, clock)
    assert "Checking in" not in ch.delivered, ch.delivered
    assert any('"reason":"not_safe"' in d for d in await _audit(service, "outbox_cancelled"))


async def test_reply_queued_before_stop_is_cancelled(
        service: Service, clock: VirtualClock, sent: list[dict[str, object]]) -> None:
    await service.runtime.handle(Inbound("sms", P, "SM1", "hello"))
    await service.sender.send_due()
    sent.clear()
    await service.runtime.handle(Inbound("sms", P, "SM2", "I want to talk"))  # reply queued
    await service.runtime.handle(Inbound("sms", P, "SM3", "STOP", signal="opt_out"))
    clock.advance_to(clock.now() + timedelta(minutes=1))
    await service.sender.send_due()
    assert sent == [], f"after STOP, still sent: {sent}"
    assert all(r[2] == "cancelled" for r in await _rows(service))


async def test_late_check_in_waits_for_the_next_safe_time(
        service: Service, clock: VirtualClock, sent: list[dict[str, object]]) -> None:
    await service.runtime.handle(Inbound("sms", P, "SM1", "hello"))
    await service.sender.send_due()
    sent.clear()
    clock.advance_to(datetime(2026, 3, 2, 20, 59, tzinfo=UTC))  # London = GMT: in the window
    pid = await service.db.read(lambda c: c.execute("SELECT id FROM people").fetchone()[0])
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    clock.advance_to(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # the sender was down till 03:00
    await service.sender.send_due()
    assert sent == [], f"sent at 03:00 local, outside the 08-21 window: {sent}"
    opens = to_ts(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    due = await service.db.read(lambda c: c.execute(
        "SELECT status, next_attempt_at FROM outbox WHERE priority = 1").fetchone())
    assert tuple(due) == ("pending", opens)
    assert await _audit(service, "outbox_deferred")
    clock.advance_to(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    await service.sender.send_due()
    assert [m["text"] for m in sent] == ["Checking in"]


class TimesOutScheduled:
    name = "sms"

    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def send(self, out: Outgoing) -> SendResult:
        if out.scheduled:
            return Retry("TimeoutError")
        self.delivered.append(out.text)
        return Sent("SMok")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None


async def test_answer_does_not_wait_for_a_retried_check_in_put_off_till_morning(
        service: Service, clock: VirtualClock) -> None:
    pid = await _person(service)
    clock.advance_to(datetime(2026, 3, 2, 20, 59, tzinfo=UTC))
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    ch = TimesOutScheduled()
    service.sender.channels = {"sms": ch}
    await service.sender.send_due()  # tried once, to be retried
    clock.advance_to(datetime(2026, 3, 2, 21, 30, tzinfo=UTC))
    await service.sender.send_due()  # the retry is put off till 08:00
    await service.runtime.handle(Inbound("sms", P, "SM5", "help"))
    await service.sender.send_due()
    assert ch.delivered, "the answer waited behind a check-in put off till morning"


async def test_stop_cancels_what_waits_on_every_channel(
        service: Service, clock: VirtualClock, sent: list[dict[str, object]]) -> None:
    pid = await _person(service)
    await service.runtime.act(pid, "send_message", {"text": "Checking in"}, actor="f1")
    await service.runtime.handle(Inbound("sms", P, "SM2", "I want to talk"))  # an answer waits
    await service.db.write(lambda c: c.execute(  # and one on the person's other channel
        "INSERT INTO outbox (person_id, address_id, channel, payload_enc, priority, status,"
        " not_before, next_attempt_at, created_at) SELECT person_id, address_id, 'telegram',"
        " payload_enc, 0, 'pending', not_before, not_before, created_at FROM outbox"
        " WHERE status = 'pending' LIMIT 1"))
    await service.runtime.handle(Inbound("sms", P, "SM3", "STOP", signal="opt_out"))
    statuses = await service.db.read(lambda c: [r[0] for r in c.execute(
        "SELECT DISTINCT status FROM outbox WHERE status != 'sent'")])
    assert statuses == ["cancelled"]  # at once, not only when the sender gets to them
