"""Safe-contact windows: when a message that is not a direct answer may reach someone.

Windows are local wall-clock hours in the person's timezone (Europe/London by default), so
they stay right across the clock changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.types import State

DEFAULT_TZ = "Europe/London"
# name -> (first hour, hour after last) in local time; chosen by the person at first contact
WINDOWS: dict[str, tuple[int, int]] = {
    "anytime": (8, 21),
    "mornings": (9, 12),
    "afternoons": (12, 17),
    "evenings": (17, 21),
}
DEFAULT_WINDOW = "anytime"


def window_of(state: State) -> tuple[int, int]:
    name = str(state.answers.get("safe_times", DEFAULT_WINDOW))
    return WINDOWS.get(name, WINDOWS[DEFAULT_WINDOW])


def deliver_at(state: State, now: datetime) -> datetime:
    """The earliest moment at or after `now` inside the person's safe window (UTC)."""
    tz = ZoneInfo(str(state.answers.get("timezone", DEFAULT_TZ)))
    first, last = window_of(state)
    local = now.astimezone(tz)
    for day in range(0, 3):
        date = (local + timedelta(days=day)).date()
        start = datetime(date.year, date.month, date.day, first, tzinfo=tz)
        end = datetime(date.year, date.month, date.day, last, tzinfo=tz)
        if local < end:
            return max(local, start).astimezone(UTC)
    raise AssertionError("a daily window always opens within 3 days")
