"""Feedback at closure: "Would you recommend this to someone in your position?" and one
optional line in their own words, asked in the person's safe time after the case closes.

The answer to the question is kept as an audit event (`feedback`, with `recommend`: yes,
maybe, no or skip), which holds nothing personal and survives erasure, so `rjbot stats` can
count it. The free-text line is an ordinary message: encrypted, read by the team (`message`
alert), erased with the rest of the person's content.
"""

from __future__ import annotations

from datetime import datetime

from bot.flows.base import STAY, Answer, Flow, Go, Step
from bot.flows.common import kept
from bot.i18n import N_
from bot.types import Audit, Choice, Msg, Reply, State, Timer

IDLE = "menu.idle"
YES = Choice("yes", N_("Yes"), N_("yes|y|yeah|yep|definitely"))
MAYBE = Choice("maybe", N_("Maybe"), N_("maybe|perhaps|not sure"))
NO = Choice("no", N_("No"), N_("no|n|nope"))
RATHER_NOT = Choice("skip", N_("Rather not say"), N_("skip|rather not say|pass"))
NOTHING = Choice("no", N_("No, nothing"), N_("no|n|nothing|no thanks"))

ASK = Msg(N_("One last question, to help us improve. Would you recommend this to someone in "
             "your position?"))
ASK_LINE = Msg(N_("Thank you. Is there one thing you would like to tell us? Write it in a "
                  "line, or reply NO."))
THANKS = Msg(N_("Thank you. This helps us help other people."))


def ask(state: State, timer: Timer, now: datetime) -> Go:
    """The feedback job came due (after the case closed): ask, unless messages are not safe."""
    if state.answers.get("safe") == "no" or state.answers.get("feedback_given"):
        return Go(STAY)
    return Go("feedback.recommend")


def _recommend(state: State, answer: Answer, now: datetime) -> Go:
    choice = answer.choice or "skip"
    state = state.with_answer("feedback_given", True)
    return Go("line", state=state, effects=(Audit("feedback", {"recommend": choice}),))


def _line(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "no":
        return Go(IDLE, replies=(Reply(THANKS),))
    words = len(answer.text.split())
    return Go(IDLE, replies=(Reply(THANKS),),
              effects=(*kept(answer.text), Audit("feedback_comment", {"words": words})))


FLOW = Flow(
    "feedback",
    (
        Step("recommend", say=ASK, choices=(YES, MAYBE, NO, RATHER_NOT), then=_recommend),
        Step("line", say=ASK_LINE, choices=(NOTHING,), free_text=True, max_length=300,
             then=_line),
    ),
)
