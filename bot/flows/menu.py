"""The menu (MENU at any time) and the resting place once there is nothing to ask.

The menu remembers where the person was (`resume_at`), so "Carry on" goes back to the
unanswered question; silence is never chased.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows import passphrase
from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import FINE
from bot.i18n import N_
from bot.types import Choice, Msg, Reply, State

IDLE = "menu.idle"

HOW = Choice("info", N_("How it works"), N_("how it works|info"))
CARRY_ON = Choice("carry_on", N_("Carry on"), N_("carry on|continue|back"))
TALK = Choice("person", N_("Talk to a person"), N_("talk to a person"))
LANGUAGE = Choice("language", N_("Language"), N_("language"))
GET_HELP = Choice("help", N_("Help"), N_("help"))
SECRET = Choice("passphrase", N_("Secret word"), N_("secret word|secret|passphrase|password"))
LETTERS = Choice("letter", N_("Letters"), N_("letters|letter"))
PRIVACY = Choice("privacy", N_("Privacy"), N_("privacy|my data"))
CAUSED = Choice("other_side", N_("I caused the harm"), N_("i caused the harm|i did it"))

MENU = Msg(N_("What would you like to do?"))
NOTED = Msg(
    N_(
        "Thank you. A person from our team will read your message. Reply MENU for options, "
        "or PAUSE or WITHDRAW at any time."
    )
)


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    # imported here: intents imports this module for the MENU intent
    from bot.flows import intents

    back = state.resume_at or IDLE
    if answer.choice == "info":
        return Go("info.start")
    if answer.choice == "person":
        go = intents.person(replace(state, resume_at=""), now)
        return replace(go, to=back, state=go.state or replace(state, resume_at=""))
    if answer.choice == "letter":
        from bot.flows import letters

        return letters.open_letters(replace(state, resume_at=""), now, back_to=back)
    if answer.choice == "language":
        return Go("settings.language")
    if answer.choice == "privacy":
        return Go("privacy.info")
    if answer.choice == "other_side":
        from bot.flows import other_side

        return other_side.start(replace(state, resume_at=""), "", now)
    if answer.choice == "passphrase":
        return passphrase.from_menu(state, now)
    if answer.choice == "help":
        return Go(back, state=replace(state, resume_at=""), replies=(Reply(intents.HELP_TEXT),))
    replies = (Reply(FINE),) if back == IDLE else ()
    return Go(back, state=replace(state, resume_at=""), replies=replies)


def _noted(state: State, answer: Answer, now: datetime) -> Go:
    """Messages after the questions are read by the team (they are in the case timeline)."""
    return Go("", replies=(Reply(NOTED),))


FLOW = Flow(
    "menu",
    (
        Step("menu", say=MENU,
             choices=(HOW, CARRY_ON, TALK, LANGUAGE, GET_HELP, LETTERS, SECRET, PRIVACY,
                      CAUSED),
             then=_chosen),
        Step("idle", free_text=True, then=_noted),
    ),
)
