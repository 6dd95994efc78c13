"""Global intents: what a person can say at any step, checked before the step sees the message.

Order matters and follows DESIGN section 5: risk, opt-out, pause/resume, help/person, language.
Our own SMS commands avoid Twilio's reserved words (STOP, START, HELP, INFO, ...): those never
reach us on SMS, so texts point to MENU, PAUSE, RESUME and WITHDRAW.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from functools import cache

from bot import crisis
from bot.flows import (
    asks,
    checkin,
    consent,
    letters,
    letters_read,
    other_side,
    privacy,
    script,
    settings,
    young,
)
from bot.flows.base import REASK, STAY, Go
from bot.flows.case import finished, open_case
from bot.i18n import LOCALES, N_, keywords, normalise
from bot.types import Alert, Audit, CancelJobs, Msg, Reply, State, WithdrawConsent

__all__ = ["REASK", "STAY", "Intent", "detect", "handle"]
START = "first_contact.start"
DETOURS = ("menu", "settings", "info", "privacy")  # flows that keep the place a person came from


class Intent(Enum):
    RISK = "risk"
    WITHDRAW_CONSENT = "withdraw_consent"
    WITHDRAW = "withdraw"
    RESUME = "resume"
    PAUSE = "pause"
    HELP = "help"
    PERSON = "person"
    CALLBACK = "callback"
    RESCHEDULE = "reschedule"
    MENU = "menu"
    INFO = "info"
    PRIVACY = "privacy"
    DATA_COPY = "data_copy"
    DATA_ERASE = "data_erase"
    LANGUAGE = "language"
    SET_LANGUAGE = "set_language"
    YOUNG = "young"
    OTHER_SIDE = "other_side"
    STOP_CHECKINS = "stop_checkins"
    CHANGE_CHECKINS = "change_checkins"
    LETTER = "letter"
    SCRIPT = "script"


# Translators: whole-message commands; people may type any of the alternatives.
EXACT_WORDS: tuple[tuple[Intent, str], ...] = (
    (Intent.WITHDRAW_CONSENT, N_("withdraw consent|take back consent|cancel consent")),
    (Intent.WITHDRAW, N_("withdraw|stop|opt out|optout|leave me alone|no more messages|"
                         "i want to stop|i want to stop this|stop messaging me|"
                         "stop texting me|i dont want to do this any more|"
                         "i don't want to do this any more")),
    (Intent.RESUME, N_("resume|start|come back|restart|unpause")),
    (Intent.PAUSE, N_("pause|pause messages")),
    (Intent.HELP, N_("help|helpline")),
    (Intent.PERSON, N_("person|talk to someone|talk to a person|human|facilitator")),
    (Intent.CALLBACK, N_("call me|call me back|can you call me|can you call me back|"
                         "could you call me back|can someone call me|ring me|ring me back|"
                         "can someone ring me|can you ring me|phone me|can i talk to a real "
                         "person|real person|can i speak to someone|can i speak to a person")),
    (Intent.RESCHEDULE, N_("i need to move the meeting|move the meeting|change the meeting|"
                           "can we move the meeting|i cant make the meeting|"
                           "i can't make the meeting|reschedule|i need a new time|"
                           "change the time")),
    (Intent.MENU, N_("menu|options|main menu")),
    (Intent.INFO, N_("info|information|how does it work|how it works|tell me more")),
    (Intent.PRIVACY, privacy.ASK_WORDS),
    (Intent.DATA_COPY, privacy.COPY_WORDS),
    (Intent.DATA_ERASE, privacy.ERASE_WORDS),
    (Intent.LANGUAGE, N_("language|change language")),
    (Intent.STOP_CHECKINS, N_("stop check ins|stop checkins|stop check in|no more check ins")),
    (Intent.CHANGE_CHECKINS, N_("change check ins|change checkins|change check in")),
    (Intent.LETTER, N_("letter|letters|write a letter|my letter|a letter")),
    (Intent.SCRIPT, N_("script|the script|my script|read the script|meeting script")),
)


def risk_category(text: str) -> str | None:
    """The kind of danger a message may mean, in any shipped language (bot.crisis), if any."""
    found = crisis.detect(text)
    return found.category if found is not None else None


# Translators: polite words people add around a command ("can you call me back please").
POLITE = N_("please|pls|plz|thanks|thank you|hi|hello")


def _unadorned(norm: str, locale: str) -> str:
    """The message without polite words at its start or end: "please call me back thanks"."""
    polite = keywords(POLITE, locale)
    words = norm.split()
    for _ in range(2):
        for n in (2, 1):
            if len(words) > n and " ".join(words[-n:]) in polite:
                words = words[:-n]
            if len(words) > n and " ".join(words[:n]) in polite:
                words = words[n:]
    return " ".join(words)


@cache  # one table per shipped locale
def _commands(locale: str) -> dict[str, int]:
    """Each command phrase (`locale`'s and English) to the first EXACT_WORDS entry with it."""
    table: dict[str, int] = {}
    for rank, (intent, words) in enumerate(EXACT_WORDS):
        # the way to change language must work whatever language is set now
        for loc in LOCALES if intent is Intent.LANGUAGE else (locale,):
            for phrase in keywords(words, loc):
                table.setdefault(phrase, rank)
    return table


def detect(text: str, locale: str) -> Intent | None:
    """The global intent a message expresses, if any (danger anywhere, others whole)."""
    norm = normalise(text)
    if not norm:
        return None
    if risk_category(text) is not None:
        return Intent.RISK
    if young.under_18_normalised(norm, locale)[0]:
        return Intent.YOUNG
    if other_side.says_so_normalised(norm, locale):
        return Intent.OTHER_SIDE
    commands = _commands(locale)  # "proszę o telefon" is itself a phrase
    if found := [commands[f] for f in (norm, _unadorned(norm, locale)) if f in commands]:
        return EXACT_WORDS[min(found)][0]
    return Intent.SET_LANGUAGE if norm in _named() else None


@cache
def _named() -> dict[str, str]:
    """Each language's name, in every shipped locale's words, to that language's locale."""
    table: dict[str, str] = {}
    for loc, words in settings.NAMED:
        for phrase in (w for x in LOCALES for w in keywords(words, x)):
            table.setdefault(phrase, loc)
    return table


def named_locale(text: str, locale: str) -> str | None:
    """The locale a message names on its own ("polski"), so a person can switch in one word."""
    return _named().get(normalise(text))


RISK_REPLY = Msg(
    N_(
        "If you are in danger now, call 999. If you cannot talk, call 999 from a mobile and "
        "press 55. Samaritans: 116 123, free, any time. Victim Support: 0808 168 9111. "
        "A person from our team will read your message within 1 working day."
    )
)
WITHDRAWN = Msg(
    N_(
        "You have stopped taking part. We will not message you again. "
        "If you change your mind, reply RESUME."
    )
)
PAUSED = Msg(N_("Messages are paused. We will not send anything until you reply RESUME."))
STILL_PAUSED = Msg(N_("Messages are still paused. Reply RESUME when you want to carry on."))
RESUMED = Msg(N_("Welcome back. Messages are on again."))
HELP_TEXT = Msg(
    N_(
        "Help: call us free on 0800 783 1583. If you are in danger, call 999. "
        "Reply PERSON to talk to someone, PAUSE to pause messages, or WITHDRAW to stop."
    )
)
PERSON_TEXT = Msg(
    N_(
        "Thank you. A member of our team will contact you within 48 hours, "
        "in the way you chose."
    )
)
# after "No, it is not safe": never "in the way you chose"
PERSON_NOT_SAFE = Msg(
    N_(
        "Thank you. We have told our team. As messages here are not safe, we will not reply "
        "here. Call us free on 0800 783 1583 when it is safe."
    )
)
PERSON_EARLY = Msg(
    N_(
        "Thank you. We have told our team. A person will contact you within 48 hours. The "
        "questions help them reach you safely, and you can skip any."
    )
)


def _here(state: State) -> str:
    """Where to come back to after a detour (the menu keeps the place it was opened from)."""
    if state.flow in DETOURS and (state.resume_at or state.flow not in ("info", "privacy")):
        return state.resume_at
    return f"{state.flow}.{state.step}" if state.flow else ""


def risk(state: State, now: datetime, category: str | None = None) -> Go:
    """The fixed safety reply at once; the bot assesses nothing itself."""
    kind = {"category": category or "help"}
    return Go(STAY, replies=(Reply(RISK_REPLY),),
              effects=(Alert("risk", kind), Audit("risk_reply", kind)))


def withdraw(state: State, now: datetime) -> Go:
    """One confirmation, no persuasion; every pending job is cancelled; facilitators told.
    Consent goes with it: coming back (START) needs a new consent before letters move."""
    state = consent.forget(letters_read.forget(state))
    return Go(
        STAY,
        state=replace(state, status="withdrawn"),
        replies=(Reply(WITHDRAWN),),
        effects=(CancelJobs(), WithdrawConsent("withdrawn"), Alert("withdrawn"),
                 Audit("withdrawn")),
    )


def withdraw_consent(state: State, now: datetime) -> Go:
    """WITHDRAW CONSENT: no letter notice is asked any more; waiting letters are held."""
    went = consent.withdraw_consent(state, now)
    if went.state is None:
        return went
    return replace(went, state=letters_read.forget(went.state),
                   effects=(CancelJobs(("letter_notice", "script_notice")), *went.effects))


def resume(state: State, now: datetime) -> Go:
    if state.status == "active":
        return Go(REASK if state.flow else START)
    came_back = state.status == "withdrawn"
    effects = (Alert("returned"), Audit("returned")) if came_back else (Audit("resumed"),)
    return Go(
        REASK if state.flow else START, state=replace(state, status="active"),
        replies=(Reply(RESUMED),), effects=effects,
    )


def pause(state: State, now: datetime) -> Go:
    return Go(
        STAY,
        state=replace(state, status="paused"),
        replies=(Reply(PAUSED),),
        effects=(Audit("paused"),),
    )


def help_(state: State, now: datetime) -> Go:
    return Go(STAY, replies=(Reply(HELP_TEXT),))


def person(state: State, now: datetime) -> Go:
    """Hand over to the facilitators; a case (and its 48-hour clock) opens if there is none."""
    told = (Alert("person"), Audit("person"))
    if state.case_open and finished(state):
        text = PERSON_NOT_SAFE if state.answers.get("safe") == "no" else PERSON_TEXT
        return Go(STAY, replies=(Reply(text),), effects=told)
    opened, effects = open_case(state.with_answer("asked_for_person", True), now)
    return Go(REASK if state.flow else START, state=opened, replies=(Reply(PERSON_EARLY),),
              effects=(*told, *effects))


def detour(to: str) -> Callable[[State, datetime], Go]:
    """Open a detour (menu, information, language) that remembers where the person was."""
    def go(state: State, now: datetime) -> Go:
        return Go(to, state=replace(state, resume_at=_here(state)))
    return go


HANDLERS: dict[Intent, Callable[[State, datetime], Go]] = {
    Intent.RISK: risk,
    Intent.WITHDRAW_CONSENT: withdraw_consent,
    Intent.WITHDRAW: withdraw,
    Intent.RESUME: resume,
    Intent.PAUSE: pause,
    Intent.HELP: help_,
    Intent.PERSON: person,
    Intent.CALLBACK: asks.callback,
    Intent.RESCHEDULE: asks.reschedule,
    Intent.MENU: detour("menu.menu"),
    Intent.INFO: detour("info.start"),
    Intent.PRIVACY: detour("privacy.info"),
    Intent.DATA_COPY: privacy.copy,
    Intent.DATA_ERASE: privacy.erase,
    Intent.LANGUAGE: detour("settings.language"),
    Intent.STOP_CHECKINS: checkin.stop,
    Intent.CHANGE_CHECKINS: checkin.change,
    Intent.LETTER: letters.open_letters,
    Intent.SCRIPT: script.open_script,
}


def handle(intent: Intent, state: State, text: str, now: datetime) -> Go:
    """Run the handler for an intent; naming a language switches to it directly."""
    if intent is Intent.YOUNG:
        return young.said(state, text, now)
    if intent is Intent.OTHER_SIDE:
        return other_side.start(state, text, now)
    if intent is Intent.SET_LANGUAGE:
        return settings.set_language(state, named_locale(text, state.locale) or state.locale, now)
    return HANDLERS[intent](state, now)
