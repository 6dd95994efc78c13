"""Job kinds: who each kind reaches, and what to do when it comes due late or at a bad time.

Flows say when something should ideally happen (Schedule effects, timer handlers); this module
says when it may: a job that messages the person is moved into their safe window when it is
scheduled and again when it fires, is held while they have paused, and is dropped once it is
pointless (a meeting reminder after the meeting). A job for the facilitators fires at once,
however late. A new kind (letter notices, the retention sweep) registers a Kind here and, for
a person's job, a timer handler in bot/flows/timers.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.oncall import risk
from bot.privacy import retention
from bot.scheduler.windows import deliver_at, in_window
from bot.types import State

# a job not about one person (the retention sweep): runs inside the claiming transaction
SystemHandler = Callable[[sqlite3.Connection, Mapping[str, Any], datetime], None]


@dataclass(frozen=True)
class Kind:
    """How one kind of job behaves."""

    name: str
    to_person: bool = False  # messages the person: safe times and PAUSE apply
    max_late: timedelta | None = None  # fired later than this, it is superseded: drop it
    expires: str = ""  # a data field (ISO UTC time) after which the job is pointless
    system: SystemHandler | None = None


@dataclass(frozen=True)
class Decision:
    """What firing a claimed job comes to: fire it, move it, hold it, or drop it."""

    action: Literal["fire", "move", "hold", "drop"]
    at: datetime | None = None
    reason: str = ""


FIRE = Decision("fire")
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    """Unknown kinds fire at once, like facilitator alerts (the engine ignores what it lacks)."""
    return KINDS.get(name) or Kind(name)


# the 24-hour reminder is superseded by the overdue alert once that is due too
register(Kind("reply_reminder", max_late=timedelta(hours=24)))
register(Kind("reply_overdue"))
register(Kind("review_due"))
register(Kind("court_check"))  # a case on hold: the court case should have ended (a team alert)
register(Kind("meeting_reminder", to_person=True, expires="at"))
register(Kind("checkin", to_person=True))
register(Kind("feedback", to_person=True))  # asked once a case closes (bot/flows/feedback.py)
# hooks for later issues: a letter is waiting (letters)
register(Kind("letter_notice", to_person=True))
# the meeting script is ready to read (bot.flows.script)
register(Kind("script_notice", to_person=True))
# the daily retention sweep: no person; runs in the claiming transaction, schedules the next
register(Kind(retention.KIND, system=retention.run_job))
# a risk alert nobody marked seen in 15 minutes goes to the supervisors (bot.oncall.risk)
register(Kind(risk.KIND, system=risk.escalate))


def _expiry(kind: Kind, data: Mapping[str, Any]) -> datetime | None:
    value = data.get(kind.expires) if kind.expires else None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def align(
    name: str, state: State, due: datetime, now: datetime, data: Mapping[str, Any]
) -> datetime | None:
    """When a new job should be due: inside the safe window for the person; None if pointless."""
    kind = kind_of(name)
    if not kind.to_person:
        return due
    if state.status == "withdrawn":
        return None
    at = deliver_at(state, max(due, now))
    expiry = _expiry(kind, data)
    return None if expiry is not None and at >= expiry else at


def when_due(
    name: str, due: datetime, data: Mapping[str, Any], state: State, now: datetime
) -> Decision:
    """The policy for a job that has come due at `now` (perhaps late, after downtime)."""
    kind = kind_of(name)
    if kind.max_late is not None and now - due > kind.max_late:
        return Decision("drop", reason="superseded")
    if not kind.to_person:
        return FIRE
    if state.status == "withdrawn":
        return Decision("drop", reason="withdrawn")
    if state.status == "paused":
        return Decision("hold", reason="paused")
    at = now if in_window(state, now) else deliver_at(state, now)
    expiry = _expiry(kind, data)
    if expiry is not None and at >= expiry:
        return Decision("drop", reason="expired")
    return FIRE if at == now else Decision("move", at=at, reason="outside safe time")
