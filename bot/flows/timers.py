"""What happens when a job comes due, and when a facilitator acts on a case.

Facilitator actions (the console calls them through `Runtime.act`): replied, meeting_set,
meeting_held, checkins_start, checkins_stop, review_set. Bad action data raises ValueError,
so the console can tell the facilitator; nothing is stored then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.flows import checkin, letters_read, script
from bot.flows.base import Go
from bot.flows.common import PLAIN_KEYS
from bot.i18n import N_
from bot.types import (
    Alert,
    Audit,
    CancelJobs,
    Effect,
    FacilitatorAction,
    Msg,
    Reply,
    Schedule,
    State,
    Timer,
    UpdateCase,
)

STAY = ""
REMIND_BEFORE = timedelta(hours=24)

TimerHandler = Callable[[State, Timer, datetime], Go]
ActionHandler = Callable[[State, FacilitatorAction, datetime], Go]

MEETING_KINDS = ("first_conversation", "meeting")
# what the person is reminded of: never says what the meeting is about (discreet by default)
MODES = {
    "phone": Msg(N_("phone call")),
    "video": Msg(N_("video call")),
    "in_person": Msg(N_("meeting in person")),
}
BOOKED = N_(
    "Your {what} with our team is booked for {when}. Reply PERSON if you need to change it."
)
BOOKED_AT = N_(
    "Your {what} with our team is booked for {when}, at {place}. "
    "Reply PERSON if you need to change it."
)
MOVED = N_(
    "Your {what} with our team has moved to {when}. Reply PERSON if you need to change it."
)
MOVED_AT = N_(
    "Your {what} with our team has moved to {when}, at {place}. "
    "Reply PERSON if you need to change it."
)
REMINDER = N_(
    "Reminder: your {what} with our team is on {when}. Reply PERSON if you need to change it."
)
REMINDER_AT = N_(
    "Reminder: your {what} with our team is on {when}, at {place}. "
    "Reply PERSON if you need to change it."
)
PLAIN_KEYS.update({BOOKED_AT, MOVED_AT, REMINDER_AT})  # these name the place: plain words only


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time from the console; naive means UTC."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("expected an ISO 8601 time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- timers ----


def reply_reminder(state: State, timer: Timer, now: datetime) -> Go:
    """24 hours after first contact and nobody has replied: remind the assigned facilitators."""
    return Go(STAY, effects=(Alert("reply_reminder"),))


def reply_overdue(state: State, timer: Timer, now: datetime) -> Go:
    """48 hours and still no reply: the promise is broken, tell the supervisors."""
    return Go(STAY, effects=(Alert("reply_overdue"),))


def _meeting_msg(state: State, meeting: Mapping[str, Any], plain: str, with_place: str) -> Msg:
    """Mode and time always; the place only when the person chose not to be discreet."""
    params: dict[str, Any] = {"what": MODES[meeting["mode"]], "when": parse_time(meeting["at"])}
    place = str(meeting.get("place") or "")
    if place and state.answers.get("discreet", True) is False:
        return Msg(with_place, {**params, "place": place})
    return Msg(plain, params)


def meeting_reminder(state: State, timer: Timer, now: datetime) -> Go:
    """The day before: remind the person what they chose. A stale reminder says nothing."""
    booked = state.answers.get("appointments")
    kind = str(timer.data.get("kind", ""))
    meeting = booked.get(kind) if isinstance(booked, Mapping) and kind in booked else (
        state.answers.get("meeting"))
    if not isinstance(meeting, Mapping) or meeting.get("at") != timer.data.get("at"):
        return Go(STAY, effects=(Audit("reminder_stale"),))
    reply = Reply(_meeting_msg(state, meeting, REMINDER, REMINDER_AT))
    return Go(STAY, replies=(reply,), effects=(Audit("meeting_reminded"),))


def review_due(state: State, timer: Timer, now: datetime) -> Go:
    """An outcome-agreement item is due for review: tell the facilitators."""
    review = str(timer.data.get("review", ""))
    return Go(STAY, effects=(Alert("review_due", {"review": review}),))


# ---- facilitator actions ----


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


def meeting_set(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A first conversation or meeting is booked (or moved): confirm it in the person's safe
    time, and remind them the day before."""
    data = action.data
    kind, mode = data.get("kind", "meeting"), data.get("mode")
    if kind not in MEETING_KINDS or mode not in MODES:
        raise ValueError("meeting_set needs kind first_conversation|meeting and a known mode")
    at = parse_time(data.get("at"))
    meeting = {"kind": kind, "mode": mode, "at": iso(at), "place": str(data.get("place") or "")}
    # each kind of appointment keeps its own record and reminder: booking the meeting leaves
    # the first conversation's reminder alone; a rebooking replaces its own (same key)
    booked = dict(state.answers.get("appointments") or {})
    before = booked.get(kind) or state.answers.get("meeting")
    moved = (isinstance(before, Mapping) and not before.get("held")
             and not before.get("missed") and before.get("kind") == kind
             and before.get("at") != meeting["at"])
    booked[kind] = meeting
    state = state.with_answer("meeting", meeting).with_answer("appointments", booked)
    effects: list[Effect] = [
        UpdateCase({"meeting": meeting}),
        Audit("meeting_set", {"kind": kind, "mode": mode, "by": action.actor}),
    ]
    if at - REMIND_BEFORE > now:
        effects.append(Schedule("meeting_reminder", at - REMIND_BEFORE,
                                key=f"meeting_reminder_{kind}",
                                data={"at": meeting["at"], "kind": kind}))
    # too late for a reminder: an earlier one for this kind finds the time changed, says nothing
    texts = (MOVED, MOVED_AT) if moved else (BOOKED, BOOKED_AT)
    reply = Reply(_meeting_msg(state, meeting, *texts), immediate=False)
    replies = (reply,) if at > now and state.status != "withdrawn" else ()
    return Go(STAY, state=state, replies=replies, effects=tuple(effects))


def meeting_held(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """The meeting took place: after a meeting (not a first conversation) check-ins begin."""
    meeting = dict(state.answers.get("meeting") or {})
    kind = action.data.get("kind") or meeting.get("kind", "meeting")  # the one that was held
    effects: list[Effect] = [Audit("meeting_held", {"by": action.actor})]
    # its reminder (the day before) is past, and expires at the meeting's time anyway; the
    # other appointment's reminder stays
    booked = dict(state.answers.get("appointments") or {})
    if isinstance(booked.get(kind), Mapping):
        booked[kind] = {**booked[kind], "held": iso(now)}
        state = state.with_answer("appointments", booked)
    if meeting.get("kind", "meeting") == kind:
        state = state.with_answer("meeting", {**meeting, "held": iso(now)})
    if kind == "first_conversation":
        return Go(STAY, state=state, effects=tuple(effects))
    effects.append(UpdateCase({"stage": "aftercare"}))
    days = state.answers.get("checkin_days") or checkin.DEFAULT_DAYS
    state, more = checkin.plan(state, days, now)
    return Go(STAY, state=state, effects=(*effects, *more))


def checkins_start(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """Start (or restart) check-ins on the given days from now."""
    days = action.data.get("days", checkin.DEFAULT_DAYS)
    if (not isinstance(days, list) or not days or len(days) > 10
            or not all(isinstance(d, int) and 1 <= d <= 365 for d in days)):
        raise ValueError("checkins_start needs days: a list of 1 to 10 whole days (1-365)")
    state, effects = checkin.plan(state, days, now)
    return Go(STAY, state=state, effects=(*effects, Audit("checkins_started",
                                                          {"days": days, "by": action.actor})))


def checkins_stop(state: State, action: FacilitatorAction, now: datetime) -> Go:
    state, effects = checkin.unplan(state)
    return Go(STAY, state=state, effects=(*effects, Audit("checkins_stopped",
                                                          {"by": action.actor})))


def review_set(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """Remind the facilitators to review an outcome-agreement item (kept encrypted, by id)."""
    at = parse_time(action.data.get("at"))
    item = str(action.data.get("item") or "").strip()[:200]
    if not item:
        raise ValueError("review_set needs a short item text")
    ref = action.data.get("ref")
    ref = ref if isinstance(ref, int) and not isinstance(ref, bool) else None
    reviews = dict(state.answers.get("reviews") or {})
    review = str(len(reviews) + 1)
    reviews[review] = {"at": iso(at), "item": item}
    return Go(
        STAY,
        state=state.with_answer("reviews", reviews),
        effects=(
            # `ref` (the console's outcome item id) lets the item's completion cancel it
            Schedule("review_due", at, key=f"review_{review}",
                     data={"review": review, **({"ref": ref} if ref else {})}),
            UpdateCase({"reviews": reviews}),
            Audit("review_set", {"review": review, "by": action.actor}),
        ),
    )


TIMERS: dict[str, TimerHandler] = {
    "reply_reminder": reply_reminder,
    "reply_overdue": reply_overdue,
    "meeting_reminder": meeting_reminder,
    "review_due": review_due,
    "checkin": checkin.check_in,
    "letter_notice": letters_read.notice_due,
    "script_notice": script.notice_due,
}
ACTIONS: dict[str, ActionHandler] = {
    "replied": replied,
    "meeting_set": meeting_set,
    "meeting_held": meeting_held,
    "checkins_start": checkins_start,
    "checkins_stop": checkins_stop,
    "review_set": review_set,
}
