"""Detours a person can take at any time, then return to where they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.i18n import LOCALES, N_
from bot.types import Audit, Choice, Msg, Reply, State

# Every language the service can speak. Only those with a complete catalog (i18n.LOCALES) are
# offered or understood. Each is offered in its own words, so the labels translate to
# themselves; the English labels stay GSM-7 (an SMS in English must not turn UCS-2).
_ALL_LANGUAGES = (
    Choice("en_GB", N_("English"), N_("english|angielski|en")),
    Choice("pl", N_("Polski"), N_("polski|polish|pl")),
    Choice("ro", N_("Romana"), N_("romana|română|romanian|ro")),
    Choice("ne", N_("Nepali"), N_("नेपाली|nepali|ne")),
    Choice("cy", N_("Cymraeg"), N_("cymraeg|welsh|cy")),
)
LANGUAGES = tuple(c for c in _ALL_LANGUAGES if c.payload in LOCALES)
# Translators: typed on their own at any step, these switch straight to that language.
_ALL_NAMED: tuple[tuple[str, str], ...] = (
    ("en_GB", N_("english|in english|angielski|po angielsku")),
    ("pl", N_("polski|polish|in polish|po polsku")),
    ("ro", N_("romana|română|romanian|in romanian|limba romana|in romana|în română")),
    ("ne", N_("नेपाली|nepali|in nepali|nepali ma|nepalima|नेपालीमा|nepali bhasa|नेपाली भाषा")),
    ("cy", N_("cymraeg|welsh|in welsh|yn gymraeg|iaith gymraeg")),
)
NAMED = tuple((loc, words) for loc, words in _ALL_NAMED if loc in LOCALES)
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
