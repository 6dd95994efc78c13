"""Stored answers and codes in words a facilitator reads: never `True`, `None`, `go_ahead`,
`in_person` or `{'days': [2, 7, 30]}` on a page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.flows import FLOWS

# how a contact in the case notes happened (bot.store.notes.HOW)
HOW_LABELS = {"phone": "Phone call", "video": "Video call", "visit": "Visit in person",
              "message": "Message sent another way", "note": "Note"}
CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+|[a-z]+")
WORDS = {
    "in_person": "In person",
    "go_ahead": "Go ahead",
    "first_conversation": "First conversation",
    "new_contact": "New contact",
    "sms": "SMS",
    "anytime": "Any time",
    "en_GB": "English",
    "checkin": "Check-in",
    "checkin_days": "Check-in days",
    "meeting_reminder": "Meeting reminder",
    "reply_reminder": "Reply reminder (24 hours)",
    "reply_overdue": "Reply overdue (48 hours)",
    "review_due": "Outcome review",
    "court_check": "Court case should have ended: look again",
    "court_end": "Court case expected to end",
    "month": "Within a month",
    "months_3": "In 1 to 3 months",
    "months_6": "In 3 to 6 months",
    "letter_notice": "Letter waiting notice",
    "script_notice": "Meeting script notice",
    "pending": "Planned",
    "done": "Done",
    "cancelled": "Cancelled",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Not delivered",
    "at": "When",
    "yes": "Yes",
    "no": "No",
    "skip": "Skipped",
    "agree": "Agreed",
    "meeting": "Meeting",
    "phone": "Phone",
    "video": "Video",
    "held": "Held",
    "missed": "Did not happen",
    "moved_from": "Moved from",
    "item": "What will be done",
    "other_party": "Other party",
}
# the conversation's own bookkeeping (where to go back to, what is on the person's screen or
# being edited): not facts about the person, never on the case page
WORKING = frozenset({"letter_return", "checkin_return", "letter_shown", "letter_shown_version",
                     "letter_edit", "letter_edit_version", "letter_parts", "script_shown",
                     "checkin", "script_return"})
# stored answers whose key alone does not say what they are
ANSWER_KEYS = {
    "letters_pending": "Letters approved for them, not read yet",
    "letters_waiting": "Letters they were told about, not read yet",
    "letters_done": "Letters read or declined",
    "checkins": "Check-ins",
    "checkin_scores": "Check-in scores (1 very low to 5 very good)",
    "consent": "Consent form version",
    "consent_contact": "Consent to contact",
    "consent_share": "Consent to share",
    "go_ahead": "Wants to go ahead",
    "kind": "Started by",
    "area": "Link to the area",
    "harm": "Kind of harm",
    "known": "Knows who is responsible",
    "adult": "Person responsible is 18 or over",
    "court_open": "Court case open",
    "court_end": "Court case expected to end",
    "asked_for_person": "Asked to talk to a person",
    "feedback_given": "Feedback given",
    "trusted_adult": "A trusted adult involved",
    "safe": "Safe to message here",
    "script": "Meeting script shared with them",
    "script_unread": "Meeting script not read yet",
}
# what a consent allows (bot.flows.consent)
SCOPES = {"contact": "Contact here and in the ways they chose",
          "share": "Share with the police and the other person's supervisor"}
# answers a step stores by its own rule, not as the code of the choice picked
STORED = {"safe": {"yes": "Yes", "no": "No, it is not safe"},
          "kind": {"other_party": "The person who caused the harm"}}
LETTER_LISTS = ("letters_pending", "letters_waiting", "letters_done")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def words(value: Any, tz: str = "") -> str:
    """Any stored value in words: yes/no, lists and mappings spelled out, codes as words,
    times (ISO) in the service's timezone `tz` (UTC when not given)."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "(not given)"
    if isinstance(value, Mapping):
        return "; ".join(f"{_key(k)}: {words(v, tz)}" for k, v in value.items()) or "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(words(v, tz) for v in value) or "(none)"
    if isinstance(value, str):
        if value in WORDS:
            return WORDS[value]
        if ISO_TIME.fullmatch(value):
            return _time(value, tz)
        if CODE.fullmatch(value) and "_" in value:
            return value.replace("_", " ").capitalize()
        return value
    return str(value)


def _time(value: str, tz: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz or "UTC")).strftime("%a %d %b %Y %H:%M")


def _key(key: Any) -> str:
    text = str(key)
    return WORDS.get(text) or text.replace("_", " ").capitalize()


@cache
def choice_labels() -> dict[str, dict[str, str]]:
    """For each answer a question saves, its choices' labels by the code stored."""
    found: dict[str, dict[str, str]] = {}
    for flow in FLOWS.values():
        for step in flow.steps:
            if step.save and step.choices:
                found.setdefault(step.save, {}).update({c.payload: c.label for c in step.choices})
    return found


def answer_key(key: str) -> str:
    """A stored answer's name in words."""
    return ANSWER_KEYS.get(key) or _key(key)


def answer(key: str, value: Any, tz: str = "") -> str:
    """A stored answer in words: the label of the choice the person picked, where a question
    offered choices; letters by number; else as `words`."""
    if isinstance(value, str):
        label = STORED.get(key, {}).get(value) or choice_labels().get(key, {}).get(value)
        if label:
            return label
    if key in LETTER_LISTS:
        return ", ".join(f"Letter {n}" for n in value) if isinstance(value, list) else "(none)"
    if key == "script" and isinstance(value, list) and len(value) == 2:
        return f"Script {value[0]}, version {value[1]}"
    return words(value, tz)
