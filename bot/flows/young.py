"""Young people: victims of any age. Someone may say at any point that they are under 18
("im 14", "I'm 15 years old", "my mum said I could text") or answer the optional age question.

Then: a `young_person` alert and a safeguarding flag for a senior facilitator, wording for
young people from then on (shorter, simpler, still no pressure), the offer of a parent, carer
or trusted adult, and no question about what happened (the optional questions are skipped).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from functools import cache

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.flows.case import finished, open_case
from bot.flows.common import kept
from bot.i18n import N_, gettext, normalise
from bot.types import Alert, Audit, Choice, Effect, Msg, Reply, State

YOUNG = "young"  # answers key: True once the person said they are under 18
AGE = "age"
BACK = "young_back"  # where to go back to once the trusted-adult question is answered
OLDEST, YOUNGEST = 17, 8
# Translators: ways to say your age; "#" stands for the number. Alternatives separated by "|".
AGE_WORDS = N_(
    "im #|i m #|i am #|im # years old|i am # years old|i m # years old|im #yo|i m # yo|"
    "im only #|i m only #|i am only #|age #|aged #|my age is #|i am # yrs|im # yrs"
)
# Translators: whole phrases that tell us a young person is writing, found anywhere in a
# message. Alternatives separated by "|".
PERMISSION_WORDS = N_(
    "my mum said i could text|my mum said i can text|my mum said i could message|my dad said "
    "i could text|my dad said i can text|my mum told me to text|my dad told me to text|my "
    "parents said i could text|my mom said i could text|my mum said i could|my mum knows im "
    "texting|my teacher told me to text|im under 18|i m under 18|i am under 18|im still at "
    "school|i m still at school"
)
_DIGIT = re.compile(r"\d")  # every age pattern needs one
# "I'm 15 minutes away" is not an age
_NOT_AGE = frozenset(("minutes", "minute", "mins", "min", "hours", "hrs", "hour", "miles", "mile",
                      "km", "pounds", "quid", "percent", "days", "weeks", "months", "times", "pm",
                      "am", "o", "clock", "foot", "feet", "stops", "st", "stone"))

WITH_ADULT = Choice("yes", N_("Yes, with an adult"), N_("yes|y|yeah|ok|with an adult"))
JUST_ME = Choice("no", N_("No, just me"), N_("no|n|just me|no thanks"))
NOT_SURE = Choice("not_sure", N_("Not sure yet"), N_("not sure|dont know|don't know|dunno"))

HELLO = Msg(
    N_(
        "Thank you for telling us. We help people of any age, and it is up to you what "
        "happens. A parent, carer or another adult you trust can help you. Would you like that?"
    )
)
ADULT_YES = Msg(
    N_(
        "OK. Someone from our team will talk with you about who that could be. You never have "
        "to tell us what happened."
    )
)
ADULT_NO = Msg(
    N_("That is fine. You can ask for an adult to help at any time. You never have to tell us "
       "what happened.")
)


@cache
def _age_patterns(locale: str) -> tuple[re.Pattern[str], ...]:
    phrases = set(AGE_WORDS.split("|")) | set(gettext(locale, AGE_WORDS).split("|"))
    found = []
    for phrase in phrases:
        words = [re.escape(w) if w != "agenumber" else r"(\d{1,2})" for w in normalise(
            phrase.replace("#", " agenumber ")).split()]
        if r"(\d{1,2})" in words:
            found.append(re.compile(r"(?:^| )" + " ?".join(words) + r"(?: (\w+)|$)"))
    return tuple(found)


@cache
def _permissions(locale: str) -> tuple[str, ...]:
    """The normalised phrases, English and `locale`'s, each between spaces."""
    phrases = set(PERMISSION_WORDS.split("|")) | set(gettext(locale, PERMISSION_WORDS).split("|"))
    return tuple(f" {p} " for p in (normalise(x) for x in phrases) if p)


def under_18(text: str, locale: str) -> tuple[bool, int | None]:
    """Whether the message says the person is under 18, and the age when it gives one."""
    return under_18_normalised(normalise(text), locale)


def under_18_normalised(norm: str, locale: str) -> tuple[bool, int | None]:
    """`under_18` of a message already normalised (`bot.i18n.normalise`)."""
    if _DIGIT.search(norm):
        for pattern in _age_patterns(locale):
            for match in pattern.finditer(norm):
                age, after = int(match.group(1)), match.group(2) or ""
                if YOUNGEST <= age <= OLDEST and after not in _NOT_AGE:
                    return True, age
    padded = f" {norm} "
    return any(p in padded for p in _permissions(locale)), None


def is_young(state: State) -> bool:
    return bool(state.answers.get(YOUNG))


def _here(state: State) -> str:
    """Where to come back to; from the optional questions, their end (nothing about harm)."""
    if state.flow == "triage" and state.step in ("offer", "age", "known", "adult", "court",
                                                  "court_end", "harm"):
        return "triage.young_end"
    if state.flow in ("menu", "settings", "info", "privacy") and state.resume_at:
        return state.resume_at
    return f"{state.flow}.{state.step}" if state.flow else ""


def recognised(state: State, text: str, now: datetime, age: int | None = None) -> Go:
    """They said they are under 18: tell a senior facilitator, offer a trusted adult."""
    effects: list[Effect] = list(kept(text)) if len(normalise(text).split()) > 5 else []
    if is_young(state):
        return Go(REASK, effects=tuple(effects))
    state = replace(state.with_answer(YOUNG, True), resume_at="").with_answer(BACK, _here(state))
    if age is not None:
        state = state.with_answer(AGE, age)
    state, case = open_case(state, now)
    effects += [*case, Alert("young_person"), Audit("young_person")]
    return Go("young.adult", state=state, effects=tuple(effects))


def said(state: State, text: str, now: datetime) -> Go:
    """The global intent: an age under 18 (or a parent's permission) anywhere in a message."""
    return recognised(state, text, now, under_18(text, state.locale)[1])


def _adult(state: State, answer: Answer, now: datetime) -> Go:
    back = str(state.answers.get(BACK) or "")
    if not back:
        back = "menu.idle" if finished(state) else "first_contact.start"
    state = replace(state, answers={k: v for k, v in state.answers.items() if k != BACK})
    state = state.with_answer("trusted_adult", answer.choice or "not_sure")
    state, case = open_case(state, now)
    text = ADULT_YES if answer.choice == "yes" else ADULT_NO
    return Go(back, state=state, replies=(Reply(text),),
              effects=(*case, Audit("trusted_adult", {"answer": answer.choice or ""})))


FLOW = Flow(
    "young",
    (Step("adult", say=HELLO, choices=(WITH_ADULT, JUST_ME, NOT_SURE), then=_adult),),
)
