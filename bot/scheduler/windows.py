"""Safe-contact windows: when a message that is not a direct answer may reach someone.

Windows are local wall-clock hours in the person's timezone (RJBOT_TIMEZONE, Europe/London by
default), worked out from the local date each day, so they stay right across the clock changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
_service_tz = ZoneInfo(DEFAULT_TZ)


def configure(timezone: str) -> None:
    """Use the service's timezone (RJBOT_TIMEZONE) for people who did not give their own."""
    global _service_tz
    _service_tz = ZoneInfo(timezone or DEFAULT_TZ)


def timezone_of(state: State) -> ZoneInfo:
    own = state.answers.get("timezone")
    return ZoneInfo(str(own)) if own else _service_tz


def window_of(state: State) -> tuple[int, int]:
    name = str(state.answers.get("safe_times", DEFAULT_WINDOW))
    return WINDOWS.get(name, WINDOWS[DEFAULT_WINDOW])


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """A wall-clock hour on a local date, as UTC (an hour skipped in spring counts as the next)."""
    naive = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
    return naive.astimezone(UTC).astimezone(tz)


def in_window(state: State, when: datetime) -> bool:
    """Whether `when` falls inside the person's safe window on that local day."""
    tz = timezone_of(state)
    first, last = window_of(state)
    local = when.astimezone(tz)
    return _local(local.date(), first, tz) <= local < _local(local.date(), last, tz)


def deliver_at(state: State, now: datetime) -> datetime:
    """The earliest moment at or after `now` inside the person's safe window (UTC)."""
    tz = timezone_of(state)
    first, last = window_of(state)
    local = now.astimezone(tz)
    for day in range(0, 3):
        on = (local + timedelta(days=day)).date()
        start, end = _local(on, first, tz), _local(on, last, tz)
        if local < end:
            return max(local, start).astimezone(UTC)
    raise AssertionError("a daily window always opens within 3 days")
