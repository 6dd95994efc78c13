"""Check-ins after the meeting: how are you (1 to 5), anything you need, then back to before.

A low score or asking for help tells the facilitators and signposts support at once. The person
can change when the next check-in comes ("change check-ins") or stop them ("stop check-ins")
at any time; those are global intents handled here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import Words
from bot.i18n import N_, N_plural
from bot.types import Alert, Audit, CancelJobs, Choice, Effect, Msg, Reply, Schedule, State, Timer

STAY = ""  # Go target: keep the position the state already has
DEFAULT_DAYS = [2, 7]  # days after the meeting
HANDLES = frozenset({"help"})  # here, "help" is an answer: it alerts the team

SCORES = (
    Choice("1", N_("Very low"), N_("very low|very bad|awful|terrible")),
    Choice("2", N_("Low"), N_("low|bad|not good|not great")),
    Choice("3", N_("OK"), N_("ok|okay|alright|so so")),
    Choice("4", N_("Good"), N_("good|fine|well")),
    Choice("5", N_("Very good"), N_("very good|great|excellent")),
)
NEED_HELP = Choice("help", N_("I need help"), N_("help|i need help|need help|need support"))
NOTHING = Choice("no", N_("No, nothing"), N_("no|n|nope|no thanks|nothing|none|all good"))
LATER = (
    Choice("2", N_("In 2 days"), N_("2 days|two days")),
    Choice("7", N_("In a week"), N_("a week|one week|1 week|week")),
    Choice("14", N_("In 2 weeks"), N_("2 weeks|two weeks|fortnight")),
    Choice("stop", N_("No more check-ins"), N_("stop|no more|none|no")),
)

HOW = N_("This is a check-in from our team. How are you feeling today, from 1 (very low) "
         "to 5 (very good)?")
HOW_NAMED = N_("Hello {name}. This is a check-in from our team. How are you feeling today, "
               "from 1 (very low) to 5 (very good)?")
SIGNPOST = Msg(N_(
    "Thank you for telling us. Our team has been told and will contact you. Victim Support: "
    "0808 168 9111 (free). Samaritans: 116 123 (free, any time). In danger, call 999."
))
NEED = Msg(N_("Is there anything you need from us? Write it in your own words, or reply NO."))
NOTED = Msg(N_("Thank you. We have passed this on to our team."))
DONE = Msg(N_("Thank you for checking in. Reply CHANGE CHECK-INS to change when we check in, "
              "or STOP CHECK-INS to stop them."))
LAST = Msg(N_("Thank you for checking in. That was the last check-in. "
              "You can message us at any time."))
CHANGE = Msg(N_("When would you like the next check-in?"))
CHANGED = N_plural("Thank you. We will check in again in {n} day.",
                   "Thank you. We will check in again in {n} days.")
STOPPED = Msg(N_("Check-ins are stopped. We will not send any more. "
                 "You can still message us at any time."))


def plan(state: State, days: list[int], start: datetime) -> tuple[State, tuple[Effect, ...]]:
    """Schedule a check-in on each of `days` after `start`, replacing any already planned."""
    days = sorted(set(days))
    effects: list[Effect] = [CancelJobs(("checkin",))]
    for n, day in enumerate(days, start=1):
        effects.append(Schedule("checkin", start + timedelta(days=day), key=f"checkin_{n}",
                                data={"n": n, "of": len(days), "day": day}))
    return state.with_answer("checkins", {"days": days}), tuple(effects)


def unplan(state: State) -> tuple[State, tuple[Effect, ...]]:
    return state.with_answer("checkins", None), (CancelJobs(("checkin",)),)


def _remember(state: State) -> State:
    """Where to go back to after the check-in (kept if a check-in is already under way)."""
    if state.flow == "checkin":
        return state
    return state.with_answer("checkin_return", f"{state.flow}.{state.step}" if state.flow else "")


def _back(state: State) -> State:
    """Back to where the person was before the check-in, without asking that step again."""
    flow, _, step = str(state.answers.get("checkin_return") or "checkin.done").rpartition(".")
    back = replace(state, flow=flow, step=step)
    return back.with_answer("checkin_return", None).with_answer("checkin", None)


def check_in(state: State, timer: Timer, now: datetime) -> Go:
    """A check-in came due: ask how they are."""
    current = {"n": timer.data.get("n", 1), "of": timer.data.get("of", 1)}
    state = _remember(state).with_answer("checkin", current)
    return Go("checkin.how", state=state, effects=(Audit("checkin_sent", current),))


# the name only for someone who chose plain words
_how = Words(HOW, named=HOW_NAMED)


def _help(state: State, why: dict[str, Any]) -> tuple[Reply, Alert]:
    return Reply(SIGNPOST), Alert("low_checkin", {**why, **_which(state)})


def _which(state: State) -> dict[str, Any]:
    current = state.answers.get("checkin") or {}
    return {"checkin": current.get("n", 0)} if isinstance(current, dict) else {}


def _scored(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "help":
        reply, alert = _help(state, {"help": True})
        return Go("need", replies=(reply,), effects=(alert,))
    score = int(answer.choice or 0)
    scores = [*list(state.answers.get("checkin_scores") or []), score]
    state = state.with_answer("checkin_scores", scores)
    effects: list[Effect] = [Audit("checkin_answered", _which(state))]
    if score <= 2:
        reply, alert = _help(state, {"score": score})
        return Go("need", state=state, replies=(reply,), effects=(alert, *effects))
    return Go("need", state=state, effects=tuple(effects))


def _finish(state: State, replies: tuple[Reply, ...], effects: tuple[Effect, ...]) -> Go:
    current = state.answers.get("checkin") or {}
    last = isinstance(current, dict) and current.get("n", 0) >= current.get("of", 1)
    return Go(STAY, state=_back(state), replies=(*replies, Reply(LAST if last else DONE)),
              effects=effects)


def _needs(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "no":
        return _finish(state, (), ())
    if answer.choice == "help":
        reply, alert = _help(state, {"help": True})
        return _finish(state, (reply,), (alert,))
    # what they need stays in the encrypted message log; the alert only says there is something
    return _finish(state, (Reply(NOTED),), (Alert("checkin_need", _which(state)),))


def _changed(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "stop":
        return stop(state, now)
    days = int(answer.choice or 7)
    stopped, effects = unplan(state)
    effects += (Schedule("checkin", now + timedelta(days=days), key="checkin_1",
                         data={"n": 1, "of": 1, "day": days}),
                Audit("checkins_changed", {"days": days}))
    state = _back(stopped.with_answer("checkins", {"days": [days]}))
    reply = Reply(Msg(CHANGED[0], {"n": days}, plural=CHANGED[1]))
    return Go(STAY, state=state, replies=(reply,), effects=effects)


def stop(state: State, now: datetime) -> Go:
    """"stop check-ins", at any time: no more check-ins, the team is told."""
    state, effects = unplan(_back(state) if state.flow == "checkin" else state)
    return Go(STAY, state=state, replies=(Reply(STOPPED),),
              effects=(*effects, Alert("checkins_stopped"), Audit("checkins_stopped")))


def change(state: State, now: datetime) -> Go:
    """"change check-ins", at any time: ask when the next one should come."""
    return Go("checkin.change", state=_remember(state))


FLOW = Flow(
    "checkin",
    (
        Step("how", say=_how, choices=(*SCORES, NEED_HELP), then=_scored, handles=HANDLES),
        Step("need", say=NEED, choices=(NOTHING, NEED_HELP), free_text=True, max_length=500,
             then=_needs, handles=HANDLES),
        Step("change", say=CHANGE, choices=LATER, then=_changed),
        # where a check-in ends when there was no conversation to go back to
        Step("done", say=None, then="done"),
    ),
)
