"""What happens when a job comes due, and when a facilitator acts on a case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.flows.base import Go
from bot.types import Alert, Audit, CancelJobs, FacilitatorAction, State, Timer, UpdateCase

STAY = ""

TimerHandler = Callable[[State, Timer, datetime], Go]
ActionHandler = Callable[[State, FacilitatorAction, datetime], Go]


def reply_reminder(state: State, timer: Timer, now: datetime) -> Go:
    """24 hours after first contact and nobody has replied: remind the assigned facilitators."""
    return Go(STAY, effects=(Alert("reply_reminder"),))


def reply_overdue(state: State, timer: Timer, now: datetime) -> Go:
    """48 hours and still no reply: the promise is broken, tell the supervisors."""
    return Go(STAY, effects=(Alert("reply_overdue"),))


def replied(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A facilitator has replied to a new contact: the 48-hour clock stops."""
    return Go(
        STAY,
        effects=(
            CancelJobs(("reply_reminder", "reply_overdue")),
            UpdateCase({"stage": "first_conversation", "replied": True}),
            Audit("replied", {"by": action.actor}),
        ),
    )


TIMERS: dict[str, TimerHandler] = {
    "reply_reminder": reply_reminder,
    "reply_overdue": reply_overdue,
}
ACTIONS: dict[str, ActionHandler] = {"replied": replied}
