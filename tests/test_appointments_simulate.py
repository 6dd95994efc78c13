"""`::act meeting_missed` and `::act meeting_moved` in `rjbot simulate`: the same rules as the
console (only after its time; a new future time; nothing on a closed case or for a person who
withdrew), each appointment on its own."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.clock import iso
from bot.config import Settings
from bot.simulate import DirectiveError, simulate
from bot.store import records
from bot.store.db import Database

FIRST = ("hello", "1", "1", "1", "Robin", "1", "2", "2", "::act replied")
ADDRESS = "+447700900777"


@pytest.fixture(autouse=True)
async def morning(settings: Settings) -> None:
    """The virtual clock starts on a fixed morning: reminders and notices are placed in the
    person's safe time, so a run started in the evening would place them otherwise."""
    async with Database(settings.database) as db:
        await db.write(lambda c: records.set_meta(c, "virtual_clock", "2026-03-04T09:00:00+00:00"))


async def run(settings: Settings, *lines: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    await simulate(settings, "sms", ADDRESS, list(lines), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database) as conn:
        return conn.execute(sql).fetchall()


def virtual_now(settings: Settings) -> datetime:
    stored = query(settings, "SELECT value FROM meta WHERE key = 'virtual_clock'")[0][0]
    return datetime.fromisoformat(stored)


REMINDERS = ("SELECT key FROM jobs WHERE kind = 'meeting_reminder' AND status = 'pending'"
             " ORDER BY key")


async def test_the_directives_keep_each_appointment_on_its_own(settings: Settings) -> None:
    await run(settings, *FIRST)
    now = virtual_now(settings)
    soon, later = iso(now + timedelta(days=2)), iso(now + timedelta(days=20))
    await run(settings, f"::act meeting_set kind=first_conversation mode=phone at={soon}",
              f"::act meeting_set kind=meeting mode=phone at={later}")
    with pytest.raises(DirectiveError, match="still to come"):
        await run(settings, "::act meeting_missed kind=meeting")
    with pytest.raises(DirectiveError, match="in the future"):
        await run(settings, f"::act meeting_moved kind=meeting at={iso(now - timedelta(hours=1))}")
    with pytest.raises(DirectiveError, match="not the meeting booked now"):
        await run(settings, f"::act meeting_moved kind=meeting was={soon} at={later}")
    with pytest.raises(DirectiveError, match="needs kind"):
        await run(settings, "::act meeting_missed")
    assert query(settings, REMINDERS) == [("meeting_reminder_first_conversation",),
                                          ("meeting_reminder_meeting",)]

    # the first conversation's time passes: it did not happen; only its own record changes
    emitted = await run(settings, "::wait 2d 1h", "::act meeting_missed kind=first_conversation"
                        ' reason="no answer"')
    assert not any("moved" in e.get("text", "") for e in emitted)
    with pytest.raises(DirectiveError, match="already recorded"):
        await run(settings, "::act meeting_missed kind=first_conversation")
    assert query(settings, REMINDERS) == [("meeting_reminder_meeting",)]
    assert query(settings, "SELECT stage FROM cases") == [("first_conversation",)]
    assert query(settings, "SELECT * FROM jobs WHERE kind = 'checkin'") == []

    # the meeting moves: the person is told, and its reminder follows the new time
    moved_to = (virtual_now(settings) + timedelta(days=30)).replace(microsecond=0)
    emitted = await run(settings, f"::act meeting_moved kind=meeting at={iso(moved_to)}",
                        "::wait 12h")
    assert any("has moved to" in e.get("text", "") for e in emitted)
    due = query(settings, "SELECT due_at FROM jobs WHERE kind = 'meeting_reminder'"
                          " AND status = 'pending'")
    assert due == [((moved_to - timedelta(hours=24)).timestamp(),)]
    # booking the first conversation again is a new booking, not a move
    again = iso(virtual_now(settings) + timedelta(days=3))
    emitted = await run(settings, f"::act meeting_set kind=first_conversation mode=video"
                        f" at={again}", "::wait 12h")
    texts = [e.get("text", "") for e in emitted]
    assert any("is booked for" in t for t in texts) and not any("moved" in t for t in texts)

    await run(settings, "::act close_case outcome=other")
    with pytest.raises(DirectiveError, match="closed"):
        await run(settings, f"::act meeting_moved kind=meeting at={iso(moved_to)}")


async def test_a_person_who_withdrew_is_refused(settings: Settings) -> None:
    await run(settings, *FIRST)
    at = iso(virtual_now(settings) + timedelta(days=5))
    await run(settings, f"::act meeting_set kind=meeting mode=phone at={at}")
    await run(settings, "STOP")
    assert query(settings, "SELECT status FROM people") == [("withdrawn",)]
    later = iso(virtual_now(settings) + timedelta(days=9))
    with pytest.raises(DirectiveError, match="withdrawn"):
        await run(settings, f"::act meeting_moved kind=meeting at={later}")
    with pytest.raises(DirectiveError, match="withdrawn"):
        await run(settings, "::wait 6d", "::act meeting_missed kind=meeting")
