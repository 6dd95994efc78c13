"""Opening the case: the 48-hour promise becomes a case, an alert and two reply-clock jobs.

The case opens at a person's first message (they have reached out, even if they only said
"hello"), flagged `unfinished` until first contact is done; finishing updates it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.types import Alert, Audit, Effect, OpenCase, Schedule, State, UpdateCase

DONE = "first_contact_done"
REPLY_WITHIN = timedelta(hours=48)
REMIND_AFTER = timedelta(hours=24)
# harm kinds where the bot never proposes RJ; a senior facilitator leads (DESIGN section 5)
SENSITIVE_HARMS = frozenset({"domestic", "sexual", "child_past"})
# the answers a facilitator needs; copied to the case when it opens or when they change
CASE_ANSWERS = (
    "safe_times", "voicemail", "name", "first_conversation", "place", "discreet", "area",
    "known", "adult", "court_open", "court_end", "harm", "young", "age", "trusted_adult",
    "kind",
)


def flags_for(state: State) -> tuple[str, ...]:
    """Case flags that route the case: senior facilitator, youth justice, on hold, area."""
    a = state.answers
    flags = []
    if a.get("harm") in SENSITIVE_HARMS and not a.get("young"):
        flags.append("senior")
    if a.get("adult") == "no":
        flags.append("youth_justice")
    if a.get("court_open") == "yes":
        flags.append("on_hold")
    if a.get("area") == "none":
        flags.append("out_of_area")
    if a.get("safe") == "no":
        flags.append("no_messages")
    if a.get("young"):  # a safeguarding flag: a senior facilitator leads
        flags.extend(("young_person", "senior"))
    if a.get("asked_for_person"):
        flags.append("asked_for_person")
    if not finished(state):
        flags.append("unfinished")
    return tuple(flags)


def finished(state: State) -> bool:
    """First contact is done (older states without the mark: a case was opened only then)."""
    return bool(state.answers.get(DONE, state.case_open))


def mark_finished(state: State) -> State:
    return state.with_answer(DONE, True)


def sensitive(state: State) -> bool:
    return state.answers.get("harm") in SENSITIVE_HARMS


def open_case(state: State, now: datetime) -> tuple[State, tuple[Effect, ...]]:
    """Create the case and start the 48-hour reply clock; if it is open, update it instead."""
    if state.case_open:
        fields = {k: state.answers[k] for k in CASE_ANSWERS if k in state.answers}
        unflag = ["unfinished"] if finished(state) else []
        update = UpdateCase({**fields, "flags": list(flags_for(state)), "unflag": unflag})
        return state, (update, Audit("case_updated"))
    if DONE not in state.answers:
        state = state.with_answer(DONE, False)
    effects: tuple[Effect, ...] = (
        OpenCase(stage="new_contact", reply_due=now + REPLY_WITHIN, flags=flags_for(state)),
        Alert("new_contact"),
        Schedule("reply_reminder", now + REMIND_AFTER, key="reply_clock"),
        Schedule("reply_overdue", now + REPLY_WITHIN, key="reply_overdue"),
        Audit("case_opened"),
    )
    return replace(state, case_open=True), effects
