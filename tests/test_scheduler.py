"""The durable scheduler through the real runtime and SQLite: firing, moving, holding, actions."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import jobs, records
from tests.flowkit import OPEN_CASE

ADDRESS = "+447700900123"
_ids = itertools.count(1)


async def say(service: Service, text: str) -> None:
    await service.runtime.handle(Inbound("sms", ADDRESS, f"t-{next(_ids)}", text))
    while await service.sender.send_due():
        pass


async def first_contact(service: Service) -> int:
    for text in OPEN_CASE:
        await say(service, text)
    found = await service.db.read(
        lambda c: records.find_address(c, service.cipher, "sms", ADDRESS)
    )
    assert found is not None
    return found[0]


async def query(service: Service, sql: str, *args: Any) -> list[sqlite3.Row]:
    return await service.db.read(lambda c: c.execute(sql, args).fetchall())


async def advance(service: Service, clock: VirtualClock, span: timedelta) -> None:
    """Like `::wait`: fire each job at its own due time, then send what is due."""
    target = clock.now() + span
    while (nxt := await service.db.read(jobs.next_due)) is not None and nxt <= to_ts(target):
        clock.advance_to(datetime.fromtimestamp(nxt, UTC))
        await service.runtime.fire_due()
        while await service.sender.send_due():
            pass
    clock.advance_to(target)
    while await service.sender.send_due():
        pass


def texts(sent: list[dict[str, Any]]) -> list[str]:
    return [str(m["text"]) for m in sent]


async def set_answers(service: Service, person: int, **answers: Any) -> None:
    """What the first-contact conversation would have recorded (safe times, discreet mode)."""
    def unit(conn: sqlite3.Connection) -> None:
        state, version = records.load_state(conn, service.cipher, person)
        for name, value in answers.items():
            state = state.with_answer(name, value)
        records.save_state(conn, service.cipher, person, state, version, 0.0)

    await service.db.write(unit)


async def test_reply_clock_reminds_then_alerts_unless_replied(
    service: Service, clock: VirtualClock
) -> None:
    person = await first_contact(service)
    await advance(service, clock, timedelta(hours=49))
    kinds = [r["kind"] for r in await query(service, "SELECT kind FROM alerts ORDER BY id")]
    assert kinds == ["new_contact", "reply_reminder", "reply_overdue"]
    assert person == 1


async def test_replied_stops_the_clock(service: Service, clock: VirtualClock) -> None:
    person = await first_contact(service)
    await advance(service, clock, timedelta(hours=10))
    await service.runtime.act(person, "replied", {}, actor="fac-1")
    await advance(service, clock, timedelta(days=3))
    kinds = [r["kind"] for r in await query(service, "SELECT kind FROM alerts")]
    assert kinds == ["new_contact"]
    stages = await query(service, "SELECT stage FROM cases")
    assert stages[0]["stage"] == "first_conversation"


async def test_a_checkin_due_at_night_after_downtime_moves_to_the_morning(
    service: Service, clock: VirtualClock, sent: list[dict[str, Any]]
) -> None:
    person = await first_contact(service)
    await service.runtime.act(person, "checkins_start", {"days": [1]})
    sent.clear()
    clock.advance_to(datetime(2026, 3, 3, 23, 30, tzinfo=UTC))  # the service was down all day
    await service.runtime.fire_due()
    assert sent == []
    row = (await query(service, "SELECT status, due_at FROM jobs WHERE kind = 'checkin'"))[0]
    assert row["status"] == "pending"
    assert row["due_at"] == to_ts(datetime(2026, 3, 4, 8, tzinfo=UTC))
    await advance(service, clock, timedelta(hours=9))
    assert texts(sent)[0].startswith("This is a check-in from our team.")
    audit = [r["action"] for r in await query(service, "SELECT action FROM audit")]
    assert "job_move" in audit and "checkin_sent" in audit


async def test_paused_person_gets_nothing_until_resume(
    service: Service, clock: VirtualClock, sent: list[dict[str, Any]]
) -> None:
    person = await first_contact(service)
    await service.runtime.act(person, "checkins_start", {"days": [1]})
    await say(service, "pause")
    sent.clear()
    await advance(service, clock, timedelta(days=5))
    assert sent == []
    held = await query(service, "SELECT held_at FROM jobs WHERE kind = 'checkin'")
    assert held[0]["held_at"] is not None
    assert await service.db.read(lambda c: jobs.due(c, to_ts(clock.now()))) == []
    await say(service, "resume")
    await service.runtime.fire_due()
    while await service.sender.send_due():
        pass
    assert any(t.startswith("This is a check-in") for t in texts(sent))


async def test_withdraw_cancels_every_job(service: Service, clock: VirtualClock,
                                          sent: list[dict[str, Any]]) -> None:
    person = await first_contact(service)
    await service.runtime.act(person, "meeting_set",
                              {"kind": "meeting", "mode": "phone", "at": "2026-03-06T10:00:00Z"})
    await service.runtime.act(person, "checkins_start", {"days": [2, 7]})
    await service.runtime.act(person, "review_set", {"at": "2026-03-20T10:00:00Z",
                                                      "item": "Apology letter"})
    await say(service, "withdraw")
    pending = await query(service, "SELECT kind FROM jobs WHERE status = 'pending'")
    assert pending == []
    sent.clear()
    await advance(service, clock, timedelta(days=30))
    assert sent == []


async def test_meeting_reminder_shows_the_place_only_outside_discreet_mode(
    service: Service, clock: VirtualClock, sent: list[dict[str, Any]]
) -> None:
    person = await first_contact(service)
    meeting = {"kind": "meeting", "mode": "in_person", "at": "2026-03-06T14:00:00Z",
               "place": "Riverside library"}
    await service.runtime.act(person, "meeting_set", meeting)
    await set_answers(service, person, discreet=False)
    await service.runtime.act(person, "meeting_set", meeting)  # rebooked: one reminder only
    sent.clear()
    await advance(service, clock, timedelta(days=4))
    reminders = [t for t in texts(sent) if t.startswith("Reminder")]
    assert reminders == ["Reminder: your meeting in person with our team is on Friday 6 March, "
                         "14:00, at Riverside library. Reply PERSON if you need to change it."]


async def test_meeting_reminder_is_said_in_the_persons_window(
    service: Service, clock: VirtualClock, sent: list[dict[str, Any]]
) -> None:
    person = await first_contact(service)
    await set_answers(service, person, safe_times="evenings")
    await service.runtime.act(person, "meeting_set",
                              {"kind": "first_conversation", "mode": "video",
                               "at": "2026-03-05T10:00:00Z"})
    due = await query(service, "SELECT due_at FROM jobs WHERE kind = 'meeting_reminder'")
    assert due[0]["due_at"] == to_ts(datetime(2026, 3, 4, 17, tzinfo=UTC))


@pytest.mark.parametrize("action,data", [
    ("meeting_set", {"kind": "meeting", "mode": "carrier pigeon", "at": "2026-03-05T10:00:00Z"}),
    ("meeting_set", {"kind": "meeting", "mode": "phone", "at": "next tuesday"}),
    ("checkins_start", {"days": [0]}),
    ("checkins_start", {"days": "2,7"}),
    ("review_set", {"at": "2026-03-05T10:00:00Z", "item": " "}),
])
async def test_bad_action_data_is_refused_and_nothing_changes(
    service: Service, action: str, data: dict[str, Any]
) -> None:
    person = await first_contact(service)
    before = await query(service, "SELECT count(*) AS n FROM jobs")
    with pytest.raises(ValueError):
        await service.runtime.act(person, action, data)
    after = await query(service, "SELECT count(*) AS n FROM jobs")
    assert before[0]["n"] == after[0]["n"]


async def test_meeting_held_after_a_first_conversation_starts_no_checkins(
    service: Service,
) -> None:
    person = await first_contact(service)
    await service.runtime.act(person, "meeting_set", {"kind": "first_conversation",
                                                       "mode": "phone",
                                                       "at": "2026-03-02T11:00:00Z"})
    await service.runtime.act(person, "meeting_held")
    assert await query(service, "SELECT id FROM jobs WHERE kind = 'checkin'") == []


async def test_checkins_stop_action_cancels_them(service: Service) -> None:
    person = await first_contact(service)
    await service.runtime.act(person, "meeting_held")
    rows = await query(service, "SELECT due_at FROM jobs WHERE kind = 'checkin' ORDER BY due_at")
    assert [r["due_at"] for r in rows] == [
        to_ts(datetime(2026, 3, 4, 10, tzinfo=UTC)), to_ts(datetime(2026, 3, 9, 10, tzinfo=UTC))]
    await service.runtime.act(person, "checkins_stop")
    left = await query(service, "SELECT id FROM jobs WHERE kind = 'checkin' AND status = 'pending'")
    assert left == []


async def test_a_system_job_runs_its_registered_handler(
    service: Service, clock: VirtualClock
) -> None:
    from bot.scheduler import kinds

    ran: list[str] = []
    kinds.register(
        kinds.Kind("test_sweep", system=lambda conn, data, now: ran.append(now.isoformat()))
    )
    try:
        now = to_ts(clock.now())
        await service.db.write(lambda c: jobs.schedule(c, person_id=None, kind="test_sweep",
                                                       due_at=now, now=now))
        await service.runtime.fire_due()
        assert ran == [clock.now().isoformat()]
        assert await service.runtime.fire_due() == 0
    finally:
        del kinds.KINDS["test_sweep"]
