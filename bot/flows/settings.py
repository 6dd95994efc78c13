"""Detours a person can take at any time, then return to where they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.i18n import N_
from bot.types import Audit, Choice, Msg, Reply, State

# Each language is offered in its own words, so the labels translate to themselves.
LANGUAGES = (
    Choice("en_GB", N_("English"), N_("english|angielski|en")),
    Choice("pl", N_("Polski"), N_("polski|polish|pl")),
)
# Translators: typed on their own at any step, these switch straight to that language.
NAMED: tuple[tuple[str, str], ...] = (
    ("en_GB", N_("english|in english|angielski|po angielsku")),
    ("pl", N_("polski|polish|in polish|po polsku")),
)
LANGUAGE_SET = Msg(N_("OK, I will write in English."))
START = "first_contact.start"


def set_language(state: State, locale: str, now: datetime) -> Go:
    """Switch language (remembered in the state) and go back to where the person was."""
    back = REASK if state.flow else START
    if state.flow == "settings":
        back = state.resume_at or START
    return Go(
        back,
        state=replace(state, locale=locale, resume_at=""),
        replies=(Reply(LANGUAGE_SET),),
        effects=(Audit("language", {"locale": locale}),),
    )


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    return set_language(state, answer.choice or state.locale, now)


FLOW = Flow(
    "settings",
    (
        Step(
            "language",
            say=Msg(N_("Which language would you like?")),
            choices=LANGUAGES,
            then=_chosen,
        ),
    ),
)
