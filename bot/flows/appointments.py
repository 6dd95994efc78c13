"""An appointment that did not happen, or moved: each first conversation and meeting on its own.

`meeting_missed` records that this appointment did not take place (only once its time has
come) and cancels its own reminder; the stage stays, no check-ins start, nothing is sent (the
team books again with the person). `meeting_moved` puts it at a new future time: the person
is told in their safe time and its own reminder follows; the other appointment's stays. Both
name the appointment by kind (and, from the console, by the time it was booked at: `was`), and
both are refused for a withdrawn person or a closed case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.flows import timers
from bot.flows.base import Go
from bot.flows.timers import MEETING_KINDS, iso, parse_time
from bot.types import Audit, CancelJobs, Effect, FacilitatorAction, State, UpdateCase

STAY = ""
MAX_REASON = 300


def current(state: State, data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The booked appointment of this kind that nothing has been recorded about yet."""
    kind = data.get("kind")
    if kind not in MEETING_KINDS:
        raise ValueError("needs kind first_conversation|meeting")
    if state.status == "withdrawn":
        raise ValueError("this person has withdrawn")
    if not state.case_open:
        raise ValueError("the case is closed")
    booked = state.answers.get("appointments")
    found = booked.get(kind) if isinstance(booked, Mapping) else None
    latest = state.answers.get("meeting")  # bookings from before each kind kept its own
    if found is None and isinstance(latest, Mapping) and latest.get("kind") == kind:
        found = latest
    if not isinstance(found, Mapping) or not found.get("at"):
        raise ValueError(f"no {kind.replace('_', ' ')} is booked")
    if found.get("held") or found.get("missed"):
        raise ValueError(f"the {kind.replace('_', ' ')} was already recorded")
    was = data.get("was")
    if was is not None and abs((parse_time(was) - parse_time(found["at"])).total_seconds()) >= 1:
        raise ValueError(f"that is not the {kind.replace('_', ' ')} booked now")
    return str(kind), dict(found)


def _recorded(state: State, kind: str, record: dict[str, Any]) -> tuple[State, list[Effect]]:
    """`record` becomes this kind's appointment (and the latest one, if it was that)."""
    booked = dict(state.answers.get("appointments") or {})
    booked[kind] = record
    state = state.with_answer("appointments", booked)
    latest = state.answers.get("meeting")
    if not isinstance(latest, Mapping) or latest.get("kind", "meeting") != kind:
        return state, []
    return state.with_answer("meeting", record), [UpdateCase({"meeting": record})]


def meeting_missed(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """This appointment did not take place: recorded, its reminder cancelled, nothing else."""
    kind, found = current(state, action.data)
    if parse_time(found["at"]) > now:
        raise ValueError(f"the {kind.replace('_', ' ')} is still to come")
    record = {**found, "missed": iso(now)}
    reason = str(action.data.get("reason") or "").strip()[:MAX_REASON]
    if reason:  # the conversation state is sealed; the audit row never carries it
        record["missed_reason"] = reason
    state, effects = _recorded(state, kind, record)
    effects += [CancelJobs(("meeting_reminder",), key=f"meeting_reminder_{kind}"),
                Audit("meeting_missed", {"kind": kind, "by": action.actor,
                                         "reason_given": bool(reason)})]
    return Go(STAY, state=state, effects=tuple(effects))


def meeting_moved(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """This appointment moves to a new future time (mode and place stay unless given)."""
    kind, found = current(state, action.data)
    at = parse_time(action.data.get("at"))
    if at <= now:
        raise ValueError("the new time must be in the future")
    if iso(at) == iso(parse_time(found["at"])):
        raise ValueError("that is the time it is booked for already")
    data = {"kind": kind, "mode": action.data.get("mode") or found.get("mode"), "at": iso(at),
            "place": action.data.get("place", found.get("place") or "")}
    went = timers.meeting_set(state, FacilitatorAction("meeting_set", data, action.actor), now)
    audit = Audit("meeting_moved", {"kind": kind, "by": action.actor})
    return Go(STAY, state=went.state, replies=went.replies,
              effects=tuple(audit if isinstance(e, Audit) else e for e in went.effects))


ACTIONS: dict[str, timers.ActionHandler] = {
    "meeting_missed": meeting_missed,
    "meeting_moved": meeting_moved,
}
