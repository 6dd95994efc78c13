"""Facilitator actions from the console that the conversation must know about.

Handlers are (state, FacilitatorAction, now) -> Go, registered in ACTIONS by action name.
Messages a facilitator sends are never immediate: they wait for the person's safe time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.flows import notices, passphrase, script
from bot.flows.base import Go
from bot.flows.timers import ActionHandler
from bot.i18n import N_
from bot.types import (
    Alert,
    Audit,
    CancelJobs,
    Effect,
    FacilitatorAction,
    LetterOp,
    Msg,
    RecordConsent,
    Reply,
    Schedule,
    State,
    UpdateCase,
)

STAY = ""
REPLY_WITHIN = timedelta(hours=48)
REMIND_AFTER = timedelta(hours=24)
REFERRAL_CONSENT_VERSION = "referral-contact-1"

# Verbatim text: the facilitator wrote it in the person's language, so it is not translated.
VERBATIM = "{text}"
# Translators: the first SMS to someone an agency referred; it must not say why we write.
REFERRAL_HELLO = Msg(
    N_(
        "Hello. Someone you spoke to asked us to get in touch. We are a free, confidential "
        "service. Reply to this message to hear more, or reply STOP for no more messages."
    )
)


def send_message(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A facilitator's own words to the person, delivered in their safe time."""
    text = str(action.data.get("text", "")).strip()
    if not text:
        return Go(STAY)
    return Go(
        STAY,
        replies=(Reply(Msg(VERBATIM, {"text": text}), immediate=False, author="facilitator"),),
        effects=(Audit("message_sent", {"by": action.actor, "length": len(text)}),),
    )


def close_case(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """The case ends: nothing more is scheduled or sent for it; the reason stays encrypted.
    The person is told why in plain words, in their safe time, with what it cancels."""
    reason = str(action.data.get("reason", "")).strip()
    outcome = str(action.data.get("outcome", ""))
    return Go(
        STAY,
        state=replace(state, case_open=False),
        replies=notices.closing(state, outcome, now),
        effects=(
            CancelJobs(),
            UpdateCase({"stage": "closed", "close_reason": reason}),
            # the outcome key (not the note) stays readable: anonymised statistics by outcome
            Audit("case_closed", {"by": action.actor,
                                  "outcome": str(action.data.get("outcome", ""))[:40]}),
            *_feedback(state, now),
        ),
    )


def reopen_case(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A closed case is taken up again. Nothing is sent and nothing restarts by itself: no
    48-hour clock, no new-contact alert, no reminders (the facilitator books what is needed);
    the feedback survey asked for at closure is no longer sent. Stage: 'reopened'."""
    if state.case_open:
        raise ValueError("the person already has an open case")
    return Go(
        STAY,
        state=replace(state, case_open=True),
        effects=(
            CancelJobs(kinds=("feedback",)),
            UpdateCase({"stage": "reopened"}),
            Audit("case_reopened", {"by": action.actor}),
        ),
    )


def _feedback(state: State, now: datetime) -> tuple[Schedule, ...]:
    """At closure, ask for feedback in the person's safe time (bot/flows/feedback.py)."""
    if state.status != "active" or state.answers.get("safe") == "no" or not state.flow:
        return ()
    return (Schedule("feedback", now, key="feedback"),)


def referral_received(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """An agency referred this person: start the 48-hour clock; write only if they agreed."""
    data = action.data
    answers = dict(state.answers)
    for key in ("name", "safe_times", "area"):
        if data.get(key):
            answers[key] = str(data[key])
    if data.get("kind") == "other_party":  # the person who caused the harm was referred
        answers["kind"] = "other_party"
    effects: list[Effect] = [
        Alert("referral"),
        Schedule("reply_reminder", now + REMIND_AFTER, key="reply_clock"),
        Schedule("reply_overdue", now + REPLY_WITHIN, key="reply_overdue"),
        Audit("referral_received", {"by": action.actor, "consent_sms": bool(data.get("sms"))}),
    ]
    replies: tuple[Reply, ...] = ()
    if data.get("sms") is True:
        effects.append(RecordConsent(REFERRAL_CONSENT_VERSION, ("contact_sms",), "sms"))
        replies = (Reply(REFERRAL_HELLO, immediate=False),)
    return Go(
        STAY,
        state=replace(state, case_open=True, answers=answers),
        replies=replies,
        effects=tuple(effects),
    )


def _letter_id(action: FacilitatorAction) -> int:
    letter = action.data.get("letter")
    if not isinstance(letter, int) or letter < 1:
        raise ValueError("needs the letter's id")
    return letter


def letter_ready(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A letter for the person was approved: announce it in their safe time (never unasked)."""
    letter = _letter_id(action)
    if state.status == "withdrawn":
        return Go(STAY, effects=(LetterOp("withheld", letter),
                                 Audit("letter_withheld", {"letter": letter})))
    if state.answers.get("safe") == "no":  # they told us messages here are not safe
        why = {"letter": letter, "reason": "not_safe"}
        return Go(STAY, effects=(LetterOp("withheld", letter), Alert("letter_withheld", why),
                                 Audit("letter_withheld", why)))
    pending = [int(x) for x in state.answers.get("letters_pending") or []]
    state = state.with_answer("letters_pending", sorted({*pending, letter}))
    return Go(STAY, state=state, effects=(
        Schedule("letter_notice", now, key=f"letter_{letter}", data={"letter": letter}),
        Audit("letter_released", {"letter": letter, "by": action.actor}),
    ))


def letter_edit_proposed(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """A facilitator suggested new wording for the person's letter: ask them, in a safe time."""
    letter = _letter_id(action)
    version = action.data.get("version")
    state = state.with_answer("letter_edit", letter).with_answer(
        "letter_edit_version", version if isinstance(version, int) else None)
    return Go(STAY, state=state, effects=(
        Schedule("letter_notice", now, key=f"letter_edit_{letter}",
                 data={"letter": letter, "edit": True}),
        Audit("letter_edit_proposed", {"letter": letter, "by": action.actor}),
    ))


ACTIONS: dict[str, ActionHandler] = {
    "passphrase_reset": passphrase.reset,
    "send_message": send_message,
    "letter_ready": letter_ready,
    "letter_edit_proposed": letter_edit_proposed,
    "script_ready": script.ready,
    "letter_delivered": notices.letter_delivered,
    "close_case": close_case,
    "reopen": reopen_case,
    "referral_received": referral_received,
}
