"""First contact: say what this is, ask how we may contact them, start the 48-hour clock.

The full set of questions (safe times, voicemail, area, optional triage) comes with the
conversations work; this is the skeleton every later step hangs on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import SKIP
from bot.i18n import N_
from bot.types import Alert, Audit, Choice, Effect, Msg, OpenCase, Schedule, State

REPLY_WITHIN = timedelta(hours=48)
REMIND_AFTER = timedelta(hours=24)

PHONE = Choice("phone", N_("Phone call"), N_("phone|call|phone call"))
VIDEO = Choice("video", N_("Video call"), N_("video|video call"))
IN_PERSON = Choice("in_person", N_("In person"), N_("in person|meet|face to face"))


def _name(state: State, answer: Answer, now: datetime) -> Go:
    name = "" if answer.choice == "skip" else answer.text.strip()
    return Go("mode", state=state.with_answer("name", name))


def _open_case(state: State, now: datetime) -> tuple[State, tuple[Effect, ...]]:
    """Create the case, tell the facilitators and start the 48-hour reply clock."""
    if state.case_open:
        return state, ()
    effects: tuple[Effect, ...] = (
        OpenCase(stage="new_contact", reply_due=now + REPLY_WITHIN),
        Alert("new_contact"),
        Schedule("reply_reminder", now + REMIND_AFTER, key="reply_clock"),
        Schedule("reply_overdue", now + REPLY_WITHIN, key="reply_overdue"),
        Audit("case_opened"),
    )
    return replace(state, case_open=True), effects


def _thanks(state: State) -> Msg:
    return Msg(
        N_(
            "Thank you. A person from our team will contact you within 48 hours. "
            "You can reply HELP, PAUSE or WITHDRAW at any time."
        )
    )


FLOW = Flow(
    "first_contact",
    (
        Step(
            "start",
            say=Msg(
                N_(
                    "Hello. This is an automated assistant, not a person. Someone from our "
                    "team will reply within 48 hours. First, 2 short questions."
                )
            ),
            wait=False,
            then="name",
        ),
        Step(
            "name",
            say=Msg(N_("Question 1 of 2: What would you like us to call you?")),
            choices=(SKIP,),
            free_text=True,
            max_length=60,
            then=_name,
        ),
        Step(
            "mode",
            say=Msg(N_("Question 2 of 2: How would you like to have the first conversation?")),
            choices=(PHONE, VIDEO, IN_PERSON),
            save="first_conversation",
            then="done",
        ),
        Step("done", say=_thanks, on_enter=_open_case, then="done"),
    ),
)
