"""Letters from the person harmed: written in several messages, reviewed, then submitted.

Nothing is passed on without the author's agreement to its final wording: when the team
suggests a change, the person sees the new wording and accepts or rejects it here. The parts
are kept (encrypted) in the letters store as they arrive, so a crash or a pause loses nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.flows.base import REASK, Answer, Flow, Go, Step
from bot.flows.case import finished
from bot.flows.common import ByChannel, Words
from bot.i18n import N_
from bot.types import Alert, Choice, Effect, LetterOp, Msg, Outcome, Reply, State

STAY = ""
IDLE = "menu.idle"
FLOWS = ("letters", "letters_read")
MAX_PART = 1600  # one inbound message; a long SMS arrives joined up to this

FINISHED = Choice("done", N_("I have finished"), N_("done|finished|that is all|thats all"))
DISCARD = Choice("discard", N_("Do not send it"), N_("do not send|dont send|discard|delete"))
SEND = Choice("send", N_("Send it to our team"), N_("send|send it|submit"))
ADD = Choice("add", N_("Add more"), N_("add|add more|more"))
AGAIN = Choice("again", N_("Start again"), N_("start again|again|rewrite"))
SEE = Choice("see", N_("Show me now"), N_("show|show me|see it|now"))
NOT_NOW = Choice("later", N_("Not now"), N_("later|not now"))
ACCEPT = Choice("accept", N_("Yes, use the new wording"), N_("yes|accept|agree|ok"))
REJECT = Choice("reject", N_("No, keep my wording"), N_("no|reject|keep mine|keep my wording"))

DONE = {"done": Msg(FINISHED.label)}  # the button's own words, on a channel with buttons
WRITE = ByChannel(Msg(N_(
    "You can write a letter to the other person. Our team reads it first, and nothing is "
    "passed on without your agreement. Write it in as many messages as you like, then reply 1."
)), Msg(N_(
    "You can write a letter to the other person. Our team reads it first, and nothing is "
    "passed on without your agreement. Write it in as many messages as you like, then tap "
    "\"{done}\"."
), DONE))
MORE = ByChannel(Msg(N_("Saved. Write the next part, or reply 1 when you have finished.")),
                  Msg(N_("Saved. Write the next part, or tap \"{done}\"."), DONE))
NEXT = ByChannel(Msg(N_("Write the next part, or reply 1 when you have finished.")),
                  Msg(N_("Write the next part, or tap \"{done}\"."), DONE))
EMPTY = Msg(N_("Your letter is empty so far. Write the first part."))
REVIEW = Msg(N_("That is your letter so far. What would you like to do?"))
SUBMITTED = Msg(N_(
    "Thank you. Our team will read your letter. If they suggest a change, we will ask you "
    "first. Nothing is passed on without your agreement."
))
DISCARDED = Msg(N_("Your letter has been deleted. Nothing was passed on."))
NO_CASE = Msg(N_(
    "Letters are passed on by our team once they have talked with you. Reply PERSON to talk "
    "to someone."
))
EDIT_NOTICE = Words(
    N_("Our team has suggested a change to what you wrote. Would you like to see it now?"),
    plain=N_("Our team has suggested a change to the letter you wrote. Would you like to see "
             "it now?"),
)
EDIT_LATER = Msg(N_("That is fine. Reply LETTER when you want to see it."))
EDIT_ASK = Msg(N_("Do you agree to this new wording? Only wording you agree to is passed on."))
EDIT_ACCEPTED = Msg(N_("Thank you. Our team will check it once more before it is passed on."))
EDIT_REJECTED = Msg(N_(
    "Thank you. Your own wording stays, and nothing is passed on without your agreement. Our "
    "team has been told."
))
# Translators: {reason} is the facilitator's own words, shown after a suggested new wording.
REASON = N_("Why our team suggests this: {reason}")


LETTER_PART = "[letter part]"  # what the message log keeps of a part (staff read that log)


def logged_text(outcome: Outcome, text: str) -> str:
    """A message that became part of a letter is kept only in the letters store, where
    deleting the draft blanks it; one that also raised a risk alert is logged as sent, for
    the team who must act on it."""
    if not any(isinstance(e, LetterOp) and e.op == "append" for e in outcome.effects):
        return text
    risky = any(isinstance(e, Alert) and e.kind == "risk" for e in outcome.effects)
    return text if risky else LETTER_PART


def remember(state: State, back_to: str = "") -> State:
    """Where to go back to once the letter business is done (kept if already inside it)."""
    if state.flow in FLOWS:
        return state
    here = back_to or (f"{state.flow}.{state.step}" if state.flow else IDLE)
    if here.partition(".")[0] in FLOWS:  # e.g. MENU from a letter notice: never back to it
        kept = str(state.answers.get("letter_return") or IDLE)
        here = IDLE if kept.partition(".")[0] in FLOWS else kept
    return state.with_answer("letter_return", here)


def back(state: State) -> Go:
    """Back to where the person was, without asking that step again."""
    to = str(state.answers.get("letter_return") or IDLE)
    flow, _, step = to.rpartition(".")
    state = replace(state, flow=flow, step=step).with_answer("letter_return", None)
    return Go(STAY, state=state)


def _back_with(state: State, reply: Msg, effects: tuple[Effect, ...] = ()) -> Go:
    return replace(back(state), replies=(Reply(reply),), effects=effects)


def open_letters(state: State, now: datetime, back_to: str = "") -> Go:
    """LETTER (or the menu entry): a suggested change first, then a letter waiting, else write."""
    if state.flow == "letters" and state.step in ("write", "more", "add", "review"):
        return Go(REASK)
    if state.answers.get("letter_edit"):
        return Go("letters.edit_review", state=remember(state, back_to))
    if state.answers.get("letters_waiting"):
        return Go("letters_read.notice", state=remember(state, back_to))
    if not (state.case_open and finished(state)):
        return Go(back_to or STAY, replies=(Reply(NO_CASE),))
    state = remember(state, back_to).with_answer("letter_parts", 0)
    return Go("letters.write", state=state)


def _part(state: State, answer: Answer, now: datetime) -> Go:
    """One part of the letter; risk words in it still get the safety reply and alert."""
    from bot.flows import intents

    parts = int(state.answers.get("letter_parts") or 0)
    if answer.choice == "done":
        return Go("review") if parts else Go(STAY, replies=(Reply(EMPTY),))
    if answer.choice == "discard":
        return _back_with(state, DISCARDED, (LetterOp("cancel"),))
    saved = LetterOp("append", text=answer.text)
    state = state.with_answer("letter_parts", parts + 1)
    category = intents.risk_category(answer.text)
    if category is not None:  # the safety reply first; the part is kept all the same
        risk = intents.risk(state, now, category)
        return Go(STAY, state=state, replies=risk.replies, effects=(saved, *risk.effects))
    return Go("more", state=state, effects=(saved,))


def _reviewed(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "send":
        state = state.with_answer("letter_parts", None)
        return _back_with(state, SUBMITTED, (LetterOp("submit"), Alert("letter_submitted")))
    if answer.choice == "add":
        return Go("add")
    if answer.choice == "again":
        return Go("write", state=state.with_answer("letter_parts", 0),
                  effects=(LetterOp("restart"),))
    return _back_with(state.with_answer("letter_parts", None), DISCARDED, (LetterOp("cancel"),))


def _show_draft(state: State, now: datetime) -> tuple[State, tuple[Effect, ...]]:
    return state, (LetterOp("show_draft"),)


def _edit_offer(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "see":
        return Go("edit_review")
    return _back_with(state, EDIT_LATER)


def _show_edit(state: State, now: datetime) -> tuple[State, tuple[Effect, ...]]:
    """Show the proposed version, and remember which letter and version were shown: the
    answer given here applies to exactly that wording, whatever was proposed since."""
    letter = int(state.answers.get("letter_edit") or 0)
    version = int(state.answers.get("letter_edit_version") or 0)
    state = state.with_answer("letter_shown", letter).with_answer("letter_shown_version", version)
    return state, (LetterOp("show_edit", letter, version=version),)


def _edit_answered(state: State, answer: Answer, now: datetime) -> Go:
    letter = int(state.answers.get("letter_shown") or 0)
    version = int(state.answers.get("letter_shown_version") or 0)
    state = state.with_answer("letter_shown", None).with_answer("letter_shown_version", None)
    if state.answers.get("letter_edit") == letter:
        state = state.with_answer("letter_edit", None).with_answer("letter_edit_version", None)
    decision = "accepted" if answer.choice == "accept" else "rejected"
    effects = (LetterOp(f"edit_{decision}", letter, version=version),
               Alert("letter_review", {"letter": letter, "edit": decision}))
    return _back_with(state, EDIT_ACCEPTED if decision == "accepted" else EDIT_REJECTED, effects)


HANDLES = frozenset({"risk"})  # a letter may well say "I was in danger": keep the part too

FLOW = Flow(
    "letters",
    (
        Step("write", say=WRITE, choices=(FINISHED, DISCARD), free_text=True,
             max_length=MAX_PART, then=_part, handles=HANDLES),
        Step("more", say=MORE, choices=(FINISHED, DISCARD), free_text=True,
             max_length=MAX_PART, then=_part, handles=HANDLES),
        Step("add", say=NEXT, choices=(FINISHED, DISCARD), free_text=True,
             max_length=MAX_PART, then=_part, handles=HANDLES),
        Step("review", say=REVIEW, choices=(SEND, ADD, AGAIN, DISCARD), on_enter=_show_draft,
             then=_reviewed),
        Step("edit_notice", say=EDIT_NOTICE, choices=(SEE, NOT_NOW), then=_edit_offer),
        Step("edit_review", say=EDIT_ASK, choices=(ACCEPT, REJECT), on_enter=_show_edit,
             then=_edit_answered),
    ),
)
