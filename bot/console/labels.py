"""Stored answers and codes in words a facilitator reads: never `True`, `None`, `go_ahead`,
`in_person` or `{'days': [2, 7, 30]}` on a page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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
}


def words(value: Any) -> str:
    """Any stored value in words: yes/no, lists and mappings spelled out, codes as words."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "(not given)"
    if isinstance(value, Mapping):
        return "; ".join(f"{_key(k)}: {words(v)}" for k, v in value.items()) or "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(words(v) for v in value) or "(none)"
    if isinstance(value, str):
        if value in WORDS:
            return WORDS[value]
        if CODE.fullmatch(value) and "_" in value:
            return value.replace("_", " ").capitalize()
        return value
    return str(value)


def _key(key: Any) -> str:
    text = str(key)
    return WORDS.get(text) or text.replace("_", " ").capitalize()
