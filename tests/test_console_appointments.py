"""Issue 16, deliverable 5: each appointment has its own "held / did not happen / moved"
actions (held and did not happen only after its time, moved to a new future time), its own
reminder, and nothing is recorded on a closed, withdrawn or erased case."""

from __future__ import annotations

from datetime import timedelta

import httpx
from starlette.applications import Starlette

from bot.clock import to_ts
from bot.config import Settings
from bot.runtime import Inbound
from tests.console_kit import MiddayClock, console, login, new_contact, post, service_of
from tests.test_console_cases import ALICE, SUE, assign, rows, staff
from tests.test_console_edits import section

REMINDERS = ("SELECT json_extract(data, '$.kind') AS kind, due_at FROM jobs WHERE"
             " kind = 'meeting_reminder' AND status = 'pending' ORDER BY due_at")


class JumpClock(MiddayClock):
    """Midday today, and it can jump ahead (an appointment's time comes)."""

    def jump(self, by: timedelta) -> None:
        self.offset += by


def _at(clock: MiddayClock, days: float) -> str:
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


async def _booked(app: Starlette, client: httpx.AsyncClient, clock: MiddayClock,
                  *kinds: tuple[str, float]) -> str:
    """A case assigned to Alice, replied to, with these appointments booked; its page URL."""
    ids = await staff(app)
    case_id = await new_contact(app)
    await assign(client, case_id, ids["alice"], ids["bob"])
    case = f"/console/cases/{case_id}"
    await login(client, ALICE)
    await post(client, f"{case}/replied", page=case)
    for kind, days in kinds:
        done = await post(client, f"{case}/meetings", {"kind": kind, "mode": "phone",
                                                       "at": _at(clock, days)}, page=case)
        assert done.status_code == 303, done.text
    return case


async def _form(app: Starlette, meeting: int, **more: str) -> dict[str, str]:
    at = (await rows(app, "SELECT at FROM meetings WHERE id = ?", meeting))[0]["at"]
    return {"meeting": str(meeting), "was": str(at), **more}


async def test_a_future_appointment_refuses_held_and_did_not_happen(settings: Settings) -> None:
    clock = MiddayClock()
    async with console(settings, clock=clock) as (app, client):
        case = await _booked(app, client, clock, ("first_conversation", 2), ("meeting", 21))
        page = section((await client.get(case)).text, "meetings")
        assert "It did not happen" not in page and "Record it was held" not in page
        assert page.count("Move it</button>") == 2 and page.count("Still to come") == 2
        for meeting in (1, 2):
            early = await post(client, f"{case}/meetings/missed",
                               await _form(app, meeting, reason="x"), page=case)
            assert early.status_code == 400 and "still to come" in early.text
            held = await post(client, f"{case}/meetings/held", {"meeting": str(meeting)},
                              page=case)
            assert held.status_code == 400
        assert await rows(app, "SELECT id FROM meetings WHERE missed_at IS NOT NULL"
                               " OR held_at IS NOT NULL") == []
        assert [r["kind"] for r in await rows(app, REMINDERS)] == ["first_conversation",
                                                                   "meeting"]


async def test_did_not_happen_cancels_only_its_own_reminder(settings: Settings) -> None:
    clock = JumpClock()
    async with console(settings, clock=clock) as (app, client):
        case = await _booked(app, client, clock, ("first_conversation", 2), ("meeting", 3))
        clock.jump(timedelta(days=3, hours=1))  # both times have come
        svc = service_of(app)
        # both reminders still waiting (as if held back to the person's safe time)
        later = to_ts(clock.now()) + 3600
        await svc.db.write(lambda c: c.execute(
            "UPDATE jobs SET status = 'pending', due_at = ? WHERE kind = 'meeting_reminder'",
            (later,)))
        await login(client, ALICE)
        page = section((await client.get(case)).text, "meetings")
        assert page.count("It did not happen") == 2 and page.count("Record it was held") == 2
        outbox_before = len(await rows(app, "SELECT id FROM outbox"))
        missed = await post(client, f"{case}/meetings/missed",
                            await _form(app, 2, reason="Robin was unwell"), page=case)
        assert missed.status_code == 303, missed.text
        shown = (await client.get(missed.headers["location"])).text
        assert "Recorded that it did not happen." in shown
        met = section(shown, "meetings")
        assert "Did not happen" in met and "Robin was unwell" in met
        assert "Book the meeting again" in met
        # only the meeting's reminder is cancelled; the stage stays, no check-ins, no message
        assert [r["kind"] for r in await rows(app, REMINDERS)] == ["first_conversation"]
        assert (await rows(app, "SELECT stage FROM cases"))[0]["stage"] == "first_conversation"
        assert await rows(app, "SELECT * FROM jobs WHERE kind = 'checkin'") == []
        assert len(await rows(app, "SELECT id FROM outbox")) == outbox_before
        stored = await rows(app, "SELECT missed_reason_enc, held_at FROM meetings WHERE id = 2")
        assert b"unwell" not in stored[0]["missed_reason_enc"] and stored[0]["held_at"] is None
        audit = await rows(app, "SELECT actor, detail FROM audit WHERE action = 'meeting_missed'"
                                " ORDER BY id")
        assert audit[0]["actor"] == ALICE and "unwell" not in str(audit)
        # recorded once: neither again, nor held now
        again = await post(client, f"{case}/meetings/missed", await _form(app, 2), page=case)
        assert again.status_code == 400 and "already recorded" in again.text
        held = await post(client, f"{case}/meetings/held", {"meeting": "2"}, page=case)
        assert held.status_code == 400
        # booked again: a new appointment with its own reminder, the person told it is booked
        rebook = await post(client, f"{case}/meetings", {"kind": "meeting", "mode": "phone",
                                                         "at": _at(clock, 7)}, page=case)
        assert rebook.status_code == 303
        assert [r["kind"] for r in await rows(app, REMINDERS)] == ["first_conversation",
                                                                   "meeting"]
        met = section((await client.get(case)).text, "meetings")
        assert "Book the meeting again" not in met  # the new booking is the one to act on


async def test_moving_one_appointment_moves_only_its_reminder(settings: Settings) -> None:
    clock = MiddayClock()
    async with console(settings, clock=clock) as (app, client):
        case = await _booked(app, client, clock, ("first_conversation", 3), ("meeting", 21))
        before = {r["kind"]: r["due_at"] for r in await rows(app, REMINDERS)}
        stale = await _form(app, 2)
        new_at = _at(clock, 25)
        moved = await post(client, f"{case}/meetings/moved", {**stale, "at": new_at}, page=case)
        assert moved.status_code == 303, moved.text
        page = (await client.get(moved.headers["location"])).text
        assert "Appointment moved. The reminder follows the new time." in page
        assert "Moved from" in section(page, "meetings")
        row = (await rows(app, "SELECT at, moved_from FROM meetings WHERE id = 2"))[0]
        assert row["moved_from"] == float(stale["was"])
        after = {r["kind"]: r["due_at"] for r in await rows(app, REMINDERS)}
        assert after["first_conversation"] == before["first_conversation"]
        assert after["meeting"] == row["at"] - 24 * 3600 != before["meeting"]
        assert "has moved to" in page  # what the person is sent, in their safe time
        # a form read before the move changes nothing
        late = await post(client, f"{case}/meetings/moved", {**stale, "at": _at(clock, 30)},
                          page=case)
        assert late.status_code == 409 and "was moved since" in late.text
        past = await post(client, f"{case}/meetings/moved",
                          {**await _form(app, 1), "at": _at(clock, -1)}, page=case)
        assert past.status_code == 400 and "already passed" in past.text
        assert (await rows(app, "SELECT at FROM meetings WHERE id = 2"))[0]["at"] == row["at"]


async def test_a_closed_withdrawn_or_erased_case_refuses_them(settings: Settings) -> None:
    clock = JumpClock()
    async with console(settings, clock=clock) as (app, client):
        await staff(app)
        await login(client, SUE)
        cases = []
        for n, address in enumerate(("+447700900001", "+447700900002", "+447700900003")):
            case_id = await new_contact(app, address, f"P{n}")
            case = f"/console/cases/{case_id}"
            await post(client, f"{case}/replied", page=case)
            await post(client, f"{case}/meetings", {"kind": "meeting", "mode": "phone",
                                                    "at": _at(clock, 2)}, page=case)
            cases.append(case)
        await service_of(app).runtime.handle(Inbound("sms", "+447700900001", "w-1", "STOP"))
        await post(client, f"{cases[1]}/close", {"reason": "other"}, page=cases[1])
        await post(client, f"{cases[2]}/erase", {"confirm": "yes"}, page=cases[2])
        clock.jump(timedelta(days=3))
        await login(client, SUE)
        for meeting, case in enumerate(cases, start=1):
            page = section((await client.get(case)).text, "meetings")
            assert "It did not happen" not in page and "Move it" not in page
            form = await _form(app, meeting)
            for action, data in (("missed", form), ("moved", {**form, "at": _at(clock, 9)})):
                refused = await post(client, f"{case}/meetings/{action}", data, page="/console/")
                assert refused.status_code == 409, (case, action)
        assert await rows(app, "SELECT id FROM meetings WHERE missed_at IS NOT NULL OR"
                               " moved_at IS NOT NULL") == []
