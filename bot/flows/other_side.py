"""The person who caused the harm can start it too (the seeds: "Both victims and offenders can
initiate"): their own short flow. What RJ is from their side, that it depends on the person
harmed wanting it, that nothing is promised and they will never contact that person directly;
then how we may contact them; then an `other_party_enquiry` alert and a case of its own kind.

Nothing here ever says whether the person harmed is known to the service.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.case import finished, mark_finished, open_case
from bot.flows.common import NO, PASSED, YES, kept
from bot.flows.first_contact import AFTERNOONS, ANYTIME, EVENINGS, MORNINGS, NO_NAME
from bot.i18n import N_, keywords, normalise
from bot.types import Alert, Audit, Msg, Reply, State

KIND = "other_party"  # cases.kind of a case started by the person who caused the harm
IDLE = "menu.idle"
# Translators: phrases, found anywhere in a message, of someone who caused the harm and wants
# to put it right. Alternatives separated by "|".
WORDS = N_(
    "i am the one who did it|im the one who did it|i m the one who did it|i was the one who did "
    "it|i want to say sorry|i want to apologise|i want to apologize|i caused the harm|i caused "
    "harm|i hurt someone|i am the person who did|im the person who did|i m the person who did|"
    "i want to make amends|i am the offender|im the offender|i m the offender"
)

INTRO = Msg(
    N_(
        "Thank you for getting in touch. This is an automated assistant, not a person. We can "
        "help you try to put things right with the person you harmed, if they want that too."
    )
)
HOW = Msg(
    N_(
        "It only happens if the person harmed wants it, and nothing is promised. You will never "
        "contact them yourself: everything goes through our team. We cannot tell you anything "
        "about them."
    )
)
DONE = Msg(
    N_(
        "Thank you. A person from our team will contact you within 48 hours. Reply MENU for "
        "options, or WITHDRAW to stop."
    )
)
NOT_SAFE = Msg(
    N_(
        "Thank you. We will not send you any more messages here. When it is safe, call us "
        "free on 0800 783 1583."
    )
)


@cache  # one tuple per shipped locale
def _padded(locale: str) -> tuple[str, ...]:
    """The normalised phrases, English and `locale`'s, each between spaces."""
    return tuple(f" {p} " for p in sorted(keywords(WORDS, locale)))


def says_so(text: str, locale: str) -> bool:
    """Whether a message says the writer caused the harm (a phrase anywhere in it)."""
    return says_so_normalised(normalise(text), locale)


def says_so_normalised(norm: str, locale: str) -> bool:
    """`says_so` of a message already normalised (`bot.i18n.normalise`)."""
    padded = f" {norm} "
    return any(p in padded for p in _padded(locale))


def start(state: State, text: str, now: datetime) -> Go:
    """Their own flow, unless first contact is already done (then the team reads it)."""
    if finished(state) or state.answers.get("kind") == KIND:
        return Go(".", replies=(Reply(PASSED),), effects=kept(text))
    effects = kept(text) if len(normalise(text).split()) > 5 else ()  # a person reads it
    return Go("other_side.start", state=state.with_answer("kind", KIND), effects=effects)


def _finish(state: State, now: datetime) -> Go:
    state, effects = open_case(mark_finished(state.with_answer("kind", KIND)), now)
    told = (Alert("other_party_enquiry"), Audit("other_party_enquiry"))
    text = NOT_SAFE if state.answers.get("safe") == "no" else DONE
    return Go(IDLE, state=state, replies=(Reply(text),), effects=(*effects, *told))


def _safe(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "no":
        return _finish(state.with_answer("safe", "no"), now)
    return Go("when", state=state.with_answer("safe", "yes"))


def _name(state: State, answer: Answer, now: datetime) -> Go:
    name = "" if answer.choice == "skip" else answer.text.strip()
    return _finish(state.with_answer("name", name), now)


FLOW = Flow(
    "other_side",
    (
        Step("start", say=INTRO, wait=False, then="how"),
        Step("how", say=HOW, wait=False, then="safe"),
        Step("safe", say=Msg(N_("Question 1 of 3: Is it safe for us to message you here?")),
             choices=(YES, NO), then=_safe),
        Step("when", say=Msg(N_("Question 2 of 3: When is it safe for us to send you messages?")),
             choices=(ANYTIME, MORNINGS, AFTERNOONS, EVENINGS), save="safe_times",
             then="name"),
        Step("name",
             say=Msg(N_("Question 3 of 3: What would you like us to call you? Any name is fine.")),
             choices=(NO_NAME,), free_text=True, max_length=60, then=_name),
    ),
)
