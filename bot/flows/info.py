"""The information session: what RJ is and how it works, in 6 short parts, then the person
decides: go ahead, not now, or no. Reachable after first contact and at any time (MENU, INFO).

Each part fits in 2 SMS segments in English. Discreet wording explains RJ without the words
that would tell someone else what the messages are about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.case import finished
from bot.flows.common import Words
from bot.i18n import N_
from bot.types import Audit, Choice, Effect, Msg, Reply, State, UpdateCase

IDLE = "menu.idle"

NEXT = Choice("next", N_("Next"), N_("next|more|go on"))
ENOUGH = Choice("enough", N_("That is enough"), N_("enough|stop reading"))
GO_AHEAD = Choice("go_ahead", N_("Go ahead"), N_("go ahead|yes|y"))
NOT_NOW = Choice("not_now", N_("Not now"), N_("not now|later"))
NO_THANKS = Choice("no", N_("No, thank you"), N_("no|n|no thanks|no thank you"))

TOPICS: tuple[tuple[str, Words], ...] = (
    ("what", Words(
        N_("1 of 6: What is it? Our team helps people who were harmed to talk to, or write to, "
           "the person who harmed them, safely and with support. We call this RJ."),
        plain=N_("1 of 6: What is RJ? RJ means restorative justice. It lets people harmed by a "
                 "crime talk to, or write to, the person responsible, safely and with support."),
    )),
    ("steps", Words(
        N_("2 of 6: The steps. You talk with 2 of our team. If you want to go on, you give "
           "consent. They talk to the other person. You both get ready. Then you meet or "
           "write. Later we check you are OK."),
    )),
    ("ways", Words(
        N_("3 of 6: There are 2 ways. Meet face to face, with our team there. Or stay apart and "
           "send letters, messages or calls through our team. You choose, and you can change."),
    )),
    ("choice", Words(
        N_("4 of 6: It is voluntary: your choice. You can stop at any time. Both of you must "
           "agree before anything happens. You can bring someone you trust for support."),
    )),
    ("free", Words(
        N_("5 of 6: It is free and confidential (private). We do not take sides. It does not "
           "affect sentencing: it will not change any punishment."),
        plain=N_("5 of 6: It is free and confidential (private). We do not take sides. It does "
                 "not affect sentencing: the court alone decides any punishment."),
    )),
    ("who", Words(
        N_("6 of 6: Who can take part? People of any age who were harmed, if the other person "
           "is 18 or over and accepts what they did. It can be recent or long ago."),
        plain=N_("6 of 6: Who can take part? Victims of any crime and any age, if the offender "
                 "is 18 or over and accepts what they did. It can be recent or long ago."),
    )),
)

INTRO = Msg(N_("Here is how it works, in 6 short parts."))
DECIDE = Msg(N_("Would you like to go ahead? You can also decide later, or say no."))
FIRST_QUESTIONS = Msg(N_("Good. First, a few questions so our team can contact you safely."))
LATER = Msg(N_("That is fine. You can come back to this at any time: reply MENU."))
NO_MORE = Msg(N_("That is OK. Thank you for telling us. We will not ask you about this again."))


def _back(state: State) -> str:
    """Where to return after the session: the unfinished question, or nowhere in particular."""
    return state.resume_at or IDLE


def _decided(state: State, answer: Answer, now: datetime) -> Go:
    choice = answer.choice or "no"
    back = _back(state)
    state = replace(state.with_answer("decision", choice), resume_at="")
    effects: tuple[Effect, ...] = (Audit("info_decision", {"decision": choice}),)
    if state.case_open:
        effects += (UpdateCase({"decision": choice}),)
    if choice == "not_now":
        return Go(back, state=state, replies=(Reply(LATER),), effects=effects)
    if choice == "no":
        return Go(IDLE, state=state, replies=(Reply(NO_MORE),), effects=effects)
    if finished(state):
        return Go("consent.start", state=state, effects=effects)
    state = state.with_answer("go_ahead", True)
    first = back if back.startswith(("first_contact.", "triage.")) else "first_contact.start"
    return Go(first, state=state, replies=(Reply(FIRST_QUESTIONS),), effects=effects)


def _topic_steps() -> tuple[Step, ...]:
    names = [name for name, _ in TOPICS]
    steps = []
    for i, (name, words) in enumerate(TOPICS):
        following = names[i + 1] if i + 1 < len(names) else "decide"
        steps.append(Step(name, say=words, choices=(NEXT, ENOUGH),
                          then={"next": following, "*": "decide"}))
    return tuple(steps)


FLOW = Flow(
    "info",
    (
        Step("start", say=INTRO, wait=False, then=TOPICS[0][0]),
        *_topic_steps(),
        Step("decide", say=DECIDE, choices=(GO_AHEAD, NOT_NOW, NO_THANKS), then=_decided),
    ),
)
