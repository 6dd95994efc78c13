"""A letter for the person harmed: announced only in their safe time, shown only when they ask.

The notice says only that a message is waiting (discreet unless they chose plain words) and
offers: read it now, later (they pick when), or no (the team is told). `read_now` is the one
place a letter is shown: a gate (a passphrase) goes in front of it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.flows import passphrase
from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import Words
from bot.flows.letters import IDLE, STAY, back, remember
from bot.i18n import N_
from bot.types import Alert, Audit, Choice, Effect, LetterOp, Msg, Reply, Schedule, State, Timer

READ = Choice("read", N_("Read it now"), N_("read|read it|read now|read it now|show me"))
LATER = Choice("later", N_("Later"), N_("later|not now"))
DECLINE = Choice("no", N_("No, I do not want it"), N_("no|no thanks|i do not want it"))
WHEN = (
    Choice("4h", N_("In a few hours"), N_("few hours|in a few hours|hours")),
    Choice("1d", N_("Tomorrow"), N_("tomorrow")),
    Choice("3d", N_("In 3 days"), N_("3 days|three days")),
    Choice("7d", N_("In a week"), N_("a week|one week|week")),
)
BUSY_RETRY = timedelta(hours=1)
SPANS = {"4h": timedelta(hours=4), "1d": timedelta(days=1), "3d": timedelta(days=3),
         "7d": timedelta(days=7)}

NOTICE = Words(
    N_("There is a message waiting for you. Would you like to read it now?"),
    plain=N_("There is a letter for you, passed on by our team. Would you like to read it now?"),
)
ASK_WHEN = Msg(N_("When should we ask you again?"))
LATER_SET = Msg(N_(
    "That is fine. We will ask you again then, at a time that is safe for you. "
    "Reply LETTER if you want it sooner."
))
DECLINED = Msg(N_(
    "That is fine. You will not be shown it. Our team has been told. "
    "Reply PERSON if you want to talk about it."
))
END_OF_LETTER = Msg(N_(
    "That is the end of the message. If you want to talk about it, reply PERSON. "
    "Reply MENU for options."
))


def _ids(state: State, key: str) -> list[int]:
    return [int(x) for x in state.answers.get(key) or []]


def _waiting(state: State) -> int:
    waiting = _ids(state, "letters_waiting")
    return waiting[0] if waiting else 0


def _done_with(state: State, letter: int) -> State:
    """The letter is read or declined: it is no longer waiting, and no notice brings it back."""
    state = state.with_answer("letters_waiting",
                              [x for x in _ids(state, "letters_waiting") if x != letter] or None)
    state = state.with_answer("letters_pending",
                              [x for x in _ids(state, "letters_pending") if x != letter] or None)
    return state.with_answer("letters_done", [*_ids(state, "letters_done"), letter])


def notice_due(state: State, timer: Timer, now: datetime) -> Go:
    """A `letter_notice` job came due (in a safe time, not paused): say a message is waiting."""
    letter = int(timer.data.get("letter") or 0)
    if state.flow in ("letters", "letters_read") and state.step not in ("notice",):
        # they are writing a letter or answering about one: ask once they have finished
        key = f"letter_edit_{letter}" if timer.data.get("edit") else f"letter_{letter}"
        return Go(STAY, effects=(Schedule("letter_notice", now + BUSY_RETRY, key=key,
                                          data=dict(timer.data)),))
    if timer.data.get("edit"):
        if state.answers.get("letter_edit") != letter:
            return Go(STAY, effects=(Audit("letter_notice_stale", {"letter": letter}),))
        return Go("letters.edit_notice", state=remember(state))
    if not letter or letter in _ids(state, "letters_done"):
        return Go(STAY, effects=(Audit("letter_notice_stale", {"letter": letter}),))
    waiting = _ids(state, "letters_waiting")
    state = remember(state).with_answer("letters_waiting", waiting + [letter] * (
        letter not in waiting))
    return Go("letters_read.notice", state=state, effects=(LetterOp("announced", letter),))


def read_now(state: State, now: datetime) -> Go:
    """The one place a letter is shown to the person harmed (in parts, then the end marker)."""
    letter = _waiting(state)
    if not letter:
        return back(state)
    after = _done_with(state, letter)
    effects: tuple[Effect, ...] = (LetterOp("show", letter),)
    if _waiting(after):
        return Go("notice", state=after, effects=effects, replies=(Reply(END_OF_LETTER),))
    return replace(back(after), replies=(Reply(END_OF_LETTER),), effects=effects)


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "read":  # through the secret-word gate, if they set one
        return passphrase.require(state, "letters_read.read", now)
    if answer.choice == "later":
        return Go("when")
    letter = _waiting(state)
    if not letter:  # nothing is waiting any more: nothing to decline
        return back(state)
    effects = (LetterOp("declined", letter), Alert("letter_declined", {"letter": letter}))
    return replace(back(_done_with(state, letter)), replies=(Reply(DECLINED),), effects=effects)


def _later(state: State, answer: Answer, now: datetime) -> Go:
    """Ask again at the chosen time (moved into a safe time); LETTER brings it back sooner."""
    letter = _waiting(state)
    span = SPANS.get(answer.choice or "", SPANS["1d"])
    effects = (Schedule("letter_notice", now + span, key=f"letter_{letter}",
                        data={"letter": letter}),
               Audit("letter_later", {"letter": letter, "after": answer.choice}))
    return replace(back(state), replies=(Reply(LATER_SET),), effects=effects)


def forget(state: State) -> State:
    """They withdrew, or took consent back: no letter is waiting for them any more (the store
    holds it, bot.relay.gate, and the team sees why), and no notice of one is asked again."""
    state = state.with_answer("letters_waiting", None).with_answer("letters_pending", None)
    # a notice or a suggested wording is not asked again on RESUME (LETTER brings an edit
    # back); a letter being written is kept, so RESUME goes back to writing it
    if state.flow == "letters_read" or state.step in ("edit_notice", "edit_review"):
        flow, _, step = IDLE.rpartition(".")
        state = replace(state, flow=flow, step=step)
    return state


FLOW = Flow(
    "letters_read",
    (
        Step("notice", say=NOTICE, choices=(READ, LATER, DECLINE), then=_chosen),
        # never waits, so nothing that asks a step again (MENU, RESUME) can show a letter again
        Step("read", wait=False, then=lambda state, _, now: read_now(state, now)),
        Step("when", say=ASK_WHEN, choices=WHEN, then=_later),
    ),
)
