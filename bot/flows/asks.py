"""The everyday asks a person may make at any step: ring me back, move the meeting.

A call back is asked for in the person's own words ("can you call me back", "can I talk to a
real person"); we ask when, offering only their safe times, tell the team (`callback`) and go
back to where they were. "I need to move the meeting" tells the team (`reschedule`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.flows.case import finished, open_case
from bot.i18n import N_
from bot.types import Alert, Audit, Choice, Effect, Msg, Reply, State

IDLE = "menu.idle"
START = "first_contact.start"

# payloads are the safe-contact windows of bot/scheduler/windows.py
MORNING = Choice("mornings", N_("Morning, 9am to 12"), N_("morning|mornings|am"))
AFTERNOON = Choice("afternoons", N_("Afternoon, 12 to 5pm"), N_("afternoon|afternoons|pm"))
EVENING = Choice("evenings", N_("Evening, 5pm to 9pm"), N_("evening|evenings"))
ANY = Choice("anytime", N_("Any of these"), N_("any|any time|anytime|any of these"))
OTHER = Choice("other", N_("A different time"), N_("different time|another time|other"))
NOT_NOW = Choice("cancel", N_("Not now"), N_("not now|cancel|no|n"))
BY_WINDOW = {"mornings": MORNING, "afternoons": AFTERNOON, "evenings": EVENING}

ASK_WHEN = Msg(N_("Of course. When is a good time for a short call?"))
CALLBACK_DONE = Msg(
    N_(
        "Thank you. We have asked our team to call you at that time. It can take up to 48 "
        "hours. If you are in danger, call 999."
    )
)
CALLBACK_OTHER = Msg(
    N_("Thank you. We have asked our team to call you. They will first ask which time suits.")
)
CALLBACK_NOT_NOW = Msg(N_("OK. Just ask again when you would like a call."))
RESCHEDULED = Msg(
    N_(
        "Thank you. We have told our team you need to change the time. A person will contact "
        "you to find a new one."
    )
)
NOTHING_BOOKED = Msg(
    N_("Thank you. We have told our team. A person will contact you about times.")
)


# one question per safe time: only the times the person said are safe (all when "any time")
TIMES: dict[str, tuple[Choice, ...]] = {
    **{window: (choice, OTHER, NOT_NOW) for window, choice in BY_WINDOW.items()},
    "anytime": (MORNING, AFTERNOON, EVENING, ANY, NOT_NOW),
}


BACK = "asks_back"  # answers key: the question to go back to once the call is arranged


def _here(state: State) -> str:
    """Where the person was (where a detour such as the menu was opened from)."""
    if state.flow in ("menu", "settings", "info") and state.resume_at:
        return state.resume_at
    return f"{state.flow}.{state.step}" if state.flow else ""


def _without_back(state: State) -> State:
    return replace(state, answers={k: v for k, v in state.answers.items() if k != BACK})


def callback(state: State, now: datetime) -> Go:
    """Ask when to ring; the case (and its 48-hour clock) opens if there is none yet."""
    if state.flow != "asks":
        state = replace(state, resume_at="").with_answer(BACK, _here(state))
    effects: tuple[Effect, ...] = ()
    if not state.case_open:
        state, effects = open_case(state, now)
    window = str(state.answers.get("safe_times", ""))
    return Go(f"asks.when_{window if window in TIMES else 'anytime'}", state=state,
              effects=effects)


def _back(state: State, text: Msg, effects: tuple[Alert | Audit, ...] = ()) -> Go:
    """Back to the question they were on, or the resting place (never silence)."""
    back = str(state.answers.get(BACK) or "") or (START if not finished(state) else IDLE)
    return Go(back, state=_without_back(state), replies=(Reply(text),), effects=effects)


def _when(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "cancel":
        return _back(state, CALLBACK_NOT_NOW, effects=(Audit("callback_cancelled"),))
    when = answer.choice or "other"
    told = (Alert("callback", {"when": when}), Audit("callback", {"when": when}))
    return _back(state, CALLBACK_OTHER if when == "other" else CALLBACK_DONE, effects=told)


def reschedule(state: State, now: datetime) -> Go:
    """The person cannot make the meeting: the team finds a new time with them."""
    booked = isinstance(state.answers.get("meeting"), dict)
    told = (Alert("reschedule", {"booked": booked}), Audit("reschedule"))
    text = RESCHEDULED if booked else NOTHING_BOOKED
    return Go(REASK if state.flow else START, replies=(Reply(text),), effects=told)


FLOW = Flow(
    "asks",
    tuple(Step(f"when_{window}", say=ASK_WHEN, choices=choices, then=_when)
          for window, choices in TIMES.items()),
)
