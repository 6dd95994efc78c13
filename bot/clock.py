"""Time as an input: the real clock for serving, a stored virtual clock for simulation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to (`rjbot simulate`'s `::wait`), never backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def restore(self, when: datetime) -> None:
        """Continue from a stored reading (a new simulation run on the same database)."""
        self._now = when

    def advance_to(self, when: datetime) -> None:
        if when > self._now:
            self._now = when


def to_ts(when: datetime) -> float:
    return when.timestamp()


def from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def iso(when: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second, as `rjbot simulate` prints it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
