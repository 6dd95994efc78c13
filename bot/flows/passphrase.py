"""A secret word: on a shared or lost phone, private things are shown only after it is typed.

Offered once at the end of first contact (optional, one question) and kept in the MENU. It is
stored only as a salted PBKDF2 hash inside the encrypted conversation state: the engine has no
key, and the state is already sealed with the data key, so a slow salted hash is the second
layer that keeps the word itself unknown even to someone holding the database and the key.
Typing is forgiving: case, accents, punctuation and extra spaces do not matter.

THE GATE: a step about to show something private returns `require(state, "flow.step", now)`
instead of `Go("flow.step")`. With no secret word set it goes straight there; otherwise it asks
for the word first and goes there only if it matches. A wrong word gets one generic reply that
reveals nothing; after MAX_FAILURES wrong words in a row the team is alerted and the gate stays
shut for LOCK_FOR (a facilitator can reset the word after checking who they are speaking to).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.flows.common import FINE
from bot.i18n import N_, keywords, normalise
from bot.types import Alert, Audit, Choice, FacilitatorAction, JSONValue, Msg, Reply, State

IDLE = "menu.idle"
HASH = "passphrase"  # answers key: "pbkdf2_sha256$iterations$salt$hex"
PENDING = "passphrase_pending"  # the first typing, hashed, until it is typed again
NEXT = "passphrase_next"  # where the gate leads once the word matches
FAILURES = "passphrase_failures"
LOCKED = "passphrase_locked_until"  # ISO time
OFFERED = "passphrase_offered"  # "first_contact" while the offer is being answered
RETRY = "passphrase_retry"  # a typo at this check: one more try without leaving it
HIDDEN = frozenset({HASH, PENDING, NEXT, FAILURES, LOCKED, OFFERED, RETRY})  # never shown
ITERATIONS = 200_000  # about 40 ms: negligible per attempt, slow for guessing offline
MIN_LENGTH = 4
MAX_FAILURES = 3
LOCK_FOR = timedelta(hours=24)

SET_ONE = Choice("yes", N_("Yes, set one"), N_("yes|y|ok|okay|sure|set one"))
NO_THANKS = Choice("no", N_("No thanks"), N_("no|n|no thanks|not now|skip"))
NOT_NOW = Choice("cancel", N_("Not now"), N_("not now|cancel|back"))
FORGOT = Choice("forgot", N_("I forgot it"), N_("forgot|i forgot|i forgot it"))
CHANGE = Choice("change", N_("Change it"), N_("change|change it"))
REMOVE = Choice("remove", N_("Remove it"), N_("remove|remove it|delete"))
KEEP = Choice("keep", N_("Keep it"), N_("keep|keep it"))

OFFER = Msg(
    N_(
        "One more thing, only if someone else might read your messages: you can set a secret "
        "word. We will ask for it before showing anything private. Would you like one?"
    )
)
ASK_NEW = Msg(
    N_(
        "Please type your secret word. Pick something easy for you to remember and hard for "
        "others to guess. Capital letters and spaces do not matter."
    )
)
TOO_SHORT = Msg(
    N_("Please use at least 4 letters or numbers, and not a command word like MENU.")
)
ASK_AGAIN = Msg(N_("Please type it once more, to be sure."))
MISMATCH = Msg(N_("Those did not match, so nothing was set. Let us try again."))
SET_DONE = Msg(
    N_(
        "Your secret word is set. You may want to delete the messages where you typed it. "
        "If you forget it, reply PERSON and our team will help."
    )
)
ASK = Msg(N_("Please type your secret word."))
TRY_AGAIN = Msg(N_("That did not match. You can try once more."))
# Translators: the same reply for a wrong word and a locked gate; it must reveal nothing.
GENERIC = Msg(N_("Sorry, I cannot show that now. Reply MENU for options."))
FORGOT_TEXT = Msg(N_("That is all right. A person from our team will contact you to help."))
MANAGE = Msg(N_("You have a secret word. What would you like to do?"))
REMOVED = Msg(N_("Your secret word is removed."))
UNCHANGED = Msg(N_("OK, nothing has changed."))


def normalised(word: str) -> str:
    """Case, accents, punctuation and spacing do not matter (phones add capitals and dots)."""
    return normalise(word)


def hash_word(word: str, salt: str, iterations: int = ITERATIONS) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", normalised(word).encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def matches(stored: str, word: str) -> bool:
    try:
        _, iterations, salt, _ = stored.split("$", 3)
        fresh = hash_word(word, salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(fresh, stored)


def is_set(state: State) -> bool:
    return bool(state.answers.get(HASH))


ASKING = frozenset({"new", "again", "check"})
NOT_KEPT = "[secret word: not kept]"


def logged_text(state: State, text: str) -> str:
    """What the message log keeps of an inbound text: not a secret word, even encrypted, as
    staff read the log; anything the bot would take as a command or risk is kept as sent."""
    from bot.flows import intents  # imported here: intents imports the menu, which imports us

    if state.flow != "passphrase" or state.step not in ASKING:  # paused too: still asked
        return text
    return text if intents.detect(text, state.locale) is not None else NOT_KEPT


def status(answers: Mapping[str, JSONValue], now: datetime) -> str:
    """For the console: whether a secret word is set, and whether wrong tries locked it."""
    if not answers.get(HASH):
        return "not set"
    until = str(answers.get(LOCKED) or "")
    if until and now < datetime.fromisoformat(until):
        return "set; locked after repeated wrong tries"
    return "set"


def reset(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A facilitator, having checked who they are speaking to, clears a forgotten word."""
    return Go("", state=_without(state, HASH, PENDING, FAILURES, LOCKED),
              effects=(Audit("passphrase_reset", {"by": action.actor}),))


def _without(state: State, *keys: str) -> State:
    return replace(state, answers={k: v for k, v in state.answers.items() if k not in keys})


def _locked(state: State, now: datetime) -> bool:
    until = str(state.answers.get(LOCKED) or "")
    return bool(until) and now < datetime.fromisoformat(until)


def _back(state: State, *replies: Msg, effects: tuple[Alert | Audit, ...] = ()) -> Go:
    """Back to where the person was: the rest of first contact, where they opened the menu,
    or the resting place."""
    from bot.flows import triage  # imported here: triage ends first contact with the offer

    if state.answers.get(OFFERED) == "first_contact":
        to = triage.after_promise(state)
    else:
        to = state.resume_at or IDLE
    return Go(to, state=replace(_without(state, OFFERED, PENDING, NEXT, RETRY), resume_at=""),
              replies=tuple(Reply(m) for m in replies), effects=effects)


def require(state: State, target: str, now: datetime) -> Go:
    """THE GATE: go to `target` ("flow.step") now, or after the secret word if one is set."""
    if not is_set(state):
        return Go(target, state=state)
    if _locked(state, now):
        return _back(state, GENERIC, effects=(Audit("passphrase_locked"),))
    return Go("passphrase.check", state=_without(state, RETRY).with_answer(NEXT, target))


def _failures(state: State) -> int:
    value = state.answers.get(FAILURES)
    return value if isinstance(value, int) else 0


def _checked(state: State, answer: Answer, now: datetime) -> Go:
    target = str(state.answers.get(NEXT) or IDLE)
    if answer.choice == "forgot":
        return _back(state, FORGOT_TEXT,
                     effects=(Alert("passphrase_forgotten"), Audit("passphrase_forgotten")))
    if answer.choice == "cancel":
        return _back(state, UNCHANGED)
    if _locked(state, now):  # locked while they were being asked
        return _back(state, GENERIC)
    if matches(str(state.answers.get(HASH)), answer.text):
        return Go(target, state=_without(state, NEXT, FAILURES, LOCKED, RETRY),
                  effects=(Audit("passphrase_ok"),))
    failures = _failures(state) + 1
    state = state.with_answer(FAILURES, failures)
    effects: tuple[Alert | Audit, ...] = (Audit("passphrase_failed", {"failures": failures}),)
    if failures < MAX_FAILURES and not state.answers.get(RETRY):
        # a typo on a small keyboard: one more try, without leaving the check
        return Go(REASK, state=state.with_answer(RETRY, True), replies=(Reply(TRY_AGAIN),),
                  effects=effects)
    if failures >= MAX_FAILURES:
        state = state.with_answer(FAILURES, 0).with_answer(LOCKED, (now + LOCK_FOR).isoformat())
        effects += (Alert("passphrase_failed", {"failures": failures}),)
    return _back(state, GENERIC, effects=effects)


def _usable(word: str, locale: str) -> bool:
    """Long enough, and not a word the bot would take as a command or a choice."""
    from bot.flows import intents  # imported here: intents imports the menu, which imports us

    norm = normalised(word)
    taken = {w for c in (NOT_NOW, FORGOT) for w in keywords(c.keywords, locale)}
    return (len(norm.replace(" ", "")) >= MIN_LENGTH and norm not in taken
            and intents.detect(word, locale) is None)


def _new(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "cancel":
        return _back(state, UNCHANGED)
    if not _usable(answer.text, state.locale):
        return Go(REASK, replies=(Reply(TOO_SHORT),))
    # the salt need not be secret, only unique: the moment, to the microsecond (the engine
    # has no randomness), makes two people's hashes of the same word differ
    pending = hash_word(answer.text, f"rjbot:{now.isoformat()}")
    return Go("again", state=state.with_answer(PENDING, pending))


def _again(state: State, answer: Answer, now: datetime) -> Go:
    pending = str(state.answers.get(PENDING) or "")
    if answer.choice == "cancel":
        return _back(state, UNCHANGED)
    if not matches(pending, answer.text):
        return Go("new", state=_without(state, PENDING), replies=(Reply(MISMATCH),))
    state = _without(state, FAILURES, LOCKED).with_answer(HASH, pending)
    return _back(state, SET_DONE, effects=(Audit("passphrase_set"),))


def _offered(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "yes":
        return Go("new", state=state.with_answer(OFFERED, "first_contact"))
    from bot.flows import triage

    then = triage.after_promise(state)
    return Go(then, state=state, replies=(Reply(FINE),) if then == IDLE else ())


def _managed(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "change":
        return Go("new")
    if answer.choice == "remove":
        return _back(_without(state, HASH, FAILURES, LOCKED), REMOVED,
                     effects=(Audit("passphrase_removed"),))
    return _back(state, UNCHANGED)


def from_menu(state: State, now: datetime) -> Go:
    """MENU > Secret word: set one, or (after typing the current one) change or remove it."""
    state = _without(state, OFFERED, PENDING)
    if is_set(state):
        return require(state, "passphrase.manage", now)
    return Go("passphrase.new", state=state)


FLOW = Flow(
    "passphrase",
    (
        Step("offer", say=OFFER, choices=(SET_ONE, NO_THANKS), then=_offered),
        Step("new", say=ASK_NEW, choices=(NOT_NOW,), free_text=True, max_length=200,
             then=_new),
        Step("again", say=ASK_AGAIN, choices=(NOT_NOW,), free_text=True, max_length=200,
             then=_again),
        Step("check", say=ASK, choices=(FORGOT, NOT_NOW), free_text=True, max_length=200,
             then=_checked),
        Step("manage", say=MANAGE, choices=(CHANGE, REMOVE, KEEP), then=_managed),
    ),
)
