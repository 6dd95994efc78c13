"""Privacy information (UK GDPR art. 13): who holds the data, what is kept and for how long,
who sees it, and how to get a copy or have it deleted. Asked for at any step ("privacy", "who
can see my messages"); the first message points to it in one line.

How long things are kept comes from the retention settings: `{enquiry_days}` and
`{closed_days}` are filled when the text is rendered (bot.i18n.configure_facts), so the
engine stays pure and the answer always matches what the retention sweep does.
A request for a copy or for deletion is an alert for the team (`data_copy`, `data_erasure`):
a person checks who they are speaking to before anything is sent or erased.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.flows.case import finished
from bot.flows.common import FINE
from bot.i18n import N_
from bot.types import Alert, Audit, Choice, Msg, Reply, State

IDLE = "menu.idle"
START = "first_contact.start"

# Translators: whole messages asking about privacy; people may type any of them.
ASK_WORDS = N_(
    "privacy|privacy notice|privacy policy|my data|data protection|gdpr|what happens to my "
    "data|what do you do with my data|who can see my messages|who sees my messages|who can "
    "read my messages|is this private|is this confidential|how long do you keep my data|how "
    "do you use my data|what do you keep"
)
COPY_WORDS = N_(
    "copy of my data|a copy of my data|send me my data|send me a copy of my data|i want a copy "
    "of my data|what data do you have|what do you hold about me"
)
ERASE_WORDS = N_(
    "delete my data|delete my messages|erase my data|remove my data|forget me|delete "
    "everything|delete all my data"
)

CARRY_ON = Choice("carry_on", N_("Carry on"), N_("carry on|continue|back|ok|okay|fine"))
COPY = Choice("copy", N_("Send me a copy"), N_("copy|send me a copy|a copy"))
ERASE = Choice("erase", N_("Delete my data"), N_("delete|delete my data|erase"))

WHO = Msg(
    N_(
        "Your privacy: our service holds what you send us, kept safe and private. Only the "
        "people helping you can read it. We share nothing without asking you, unless someone "
        "may be in danger."
    )
)
HOW_LONG = Msg(
    N_(
        "If we never get to talk, we delete your messages after {enquiry_days} days; "
        "otherwise {closed_days} days after we finish. You can ask for a copy, or for it all "
        "to be deleted."
    )
)
COPY_ASKED = Msg(
    N_(
        "Thank you. We have told our team. A person will check it is you, then send you a copy "
        "within one month."
    )
)
ERASE_ASKED = Msg(
    N_(
        "Thank you. We have told our team. A person will check it is you, then delete your "
        "data within one month, and tell you if anything must be kept."
    )
)


def _back(state: State) -> str:
    return state.resume_at or (IDLE if finished(state) else START)


def _told(right: str) -> tuple[tuple[Reply, ...], tuple[Alert | Audit, ...]]:
    """A request for a copy (`copy`) or for deletion (`erase`): the team is told."""
    kind = {"copy": "data_copy", "erase": "data_erasure"}[right]
    return (Reply(COPY_ASKED if right == "copy" else ERASE_ASKED),), (Alert(kind), Audit(kind))


def copy(state: State, now: datetime) -> Go:
    """Asked for straight away ("send me a copy of my data"): told, then the same question."""
    replies, effects = _told("copy")
    return Go(REASK if state.flow else START, replies=replies, effects=effects)


def erase(state: State, now: datetime) -> Go:
    replies, effects = _told("erase")
    return Go(REASK if state.flow else START, replies=replies, effects=effects)


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    back, state = _back(state), replace(state, resume_at="")
    if answer.choice in ("copy", "erase"):
        replies, effects = _told(answer.choice)
        return Go(back, state=state, replies=replies, effects=effects)
    return Go(back, state=state, replies=(Reply(FINE),) if back == IDLE else ())


FLOW = Flow(
    "privacy",
    (
        Step("info", say=WHO, wait=False, then="how_long"),
        Step("how_long", say=HOW_LONG, choices=(CARRY_ON, COPY, ERASE), then=_chosen),
    ),
)
