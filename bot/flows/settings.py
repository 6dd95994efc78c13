"""Detours a person can take at any time, then return to where they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import Answer, Flow, Go, Step
from bot.i18n import N_
from bot.types import Audit, Choice, Msg, State

# Each language is offered in its own words, so the labels translate to themselves.
LANGUAGES = (
    Choice("en_GB", N_("English"), N_("english|angielski|en")),
    Choice("pl", N_("Polski"), N_("polski|polish|pl")),
)


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    locale = answer.choice or state.locale
    back = state.resume_at or "first_contact.start"
    return Go(
        back,
        state=replace(state, locale=locale, resume_at=""),
        effects=(Audit("language", {"locale": locale}),),
    )


FLOW = Flow(
    "settings",
    (
        Step(
            "language",
            say=Msg(N_("Which language would you like? / Jaki język wybierasz?")),
            choices=LANGUAGES,
            then=_chosen,
        ),
    ),
)
