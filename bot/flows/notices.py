"""Closing the loop: the person is told, in their safe time, when what they wrote was passed
on, and when their case closes: why, in plain words, anything it cancels that we had
promised them (check-ins, a meeting), and where to get support.

Nothing here is sent to someone who said messages here are not safe, or who withdrew.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.flows.base import Go
from bot.flows.common import Words
from bot.flows.timers import MODES, parse_time
from bot.i18n import N_
from bot.types import Audit, FacilitatorAction, Msg, Reply, State

STAY = ""

DELIVERED = Words(
    N_("Our team has passed on what you wrote. Reply PERSON if you want to talk about it."),
    plain=N_("Our team has passed your letter on to the other person. Reply PERSON if you "
             "want to talk about it."),
)
# why the case closed, in words the person can understand (keys: the console's close reasons)
CLOSED = {
    "completed": Msg(N_("Our work with you is now finished. Thank you for taking part.")),
    "withdrew": Msg(N_("As you asked, we have stopped. Thank you for letting us know.")),
    "not_eligible": Msg(N_("We are sorry: this is not something our service can help with.")),
    "no_contact": Msg(N_("We could not reach you, so we have closed this for now.")),
    "referred_on": Msg(N_(
        "We have asked another service, who can help you better, to take this on.")),
    "other": Msg(N_("Our team has closed this for now.")),
}
NO_CHECKINS = Msg(N_("This also stops the check-in messages we had planned with you."))
# Translators: {what} is "phone call", "video call" or "meeting in person"; {when} a date.
NO_MEETING = N_("This also means your {what} with our team on {when} will not happen.")
SUPPORT = Msg(N_(
    "If you need support, Victim Support is free on 0808 168 9111, and Samaritans on 116 123, "
    "any time. You can message us again whenever you want."
))


def _reachable(state: State) -> bool:
    return state.answers.get("safe") != "no" and state.status != "withdrawn"


def letter_delivered(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A letter they wrote was handed or posted to the other party: tell them (safe time)."""
    letter = action.data.get("letter")
    effects = (Audit("letter_delivered_told", {"letter": letter, "told": _reachable(state)}),)
    if not _reachable(state):
        return Go(STAY, effects=effects)
    return Go(STAY, replies=(Reply(DELIVERED(state), immediate=False),), effects=effects)


def _meeting_ahead(state: State, now: datetime) -> Mapping[str, Any] | None:
    meeting = state.answers.get("meeting")
    if (not isinstance(meeting, Mapping) or meeting.get("held") or meeting.get("missed")
            or not meeting.get("at")):
        return None
    return meeting if parse_time(meeting["at"]) > now else None


def closing(state: State, outcome: str, now: datetime) -> tuple[Reply, ...]:
    """What the person is told when their case closes (nothing, if they cannot be reached)."""
    if not _reachable(state) or not state.case_open:
        return ()
    told = [CLOSED.get(outcome, CLOSED["other"])]
    if state.answers.get("checkins"):
        told.append(NO_CHECKINS)
    meeting = _meeting_ahead(state, now)
    if meeting is not None and meeting.get("mode") in MODES:
        told.append(Msg(NO_MEETING, {"what": MODES[meeting["mode"]],
                                     "when": parse_time(meeting["at"])}))
    told.append(SUPPORT)
    return tuple(Reply(m, immediate=False) for m in told)
