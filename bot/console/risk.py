"""Risk as a case state, in plain words: what the alert is about and how to reach the person.

The alert's data holds codes only (bot/store/schema.py); these are the words the console shows.
"""

from __future__ import annotations

from typing import Any

from bot.scheduler.windows import WINDOWS
from bot.store.casework import AlertRow, CaseRow

CATEGORIES = {
    "suicide": "Suicide or self-harm",
    "overdose": "Overdose or a medical emergency",
    "threat": "Someone threatening or hurting them now",
    "weapon": "A weapon",
    "intruder": "Someone at or breaking into their home",
    "sexual_assault": "A sexual assault that has just happened",
    "child": "A child in danger",
    "help": "Asking for help: an emergency, or not safe",
}
UNKNOWN_CATEGORY = "Words that may mean danger"

ELSEWHERE = ("Written in a Telegram group or channel, which the bot left without a word: only"
             " the words that raised the alert were kept; the person may never have written"
             " to us privately, so a message from here may not reach them")


WARNINGS = {
    "no_messages": "Do not message: the person said messages are not safe",
    "unfinished": "Did not finish the questions: safety not confirmed, reply only in this chat"
                  " and only discreetly",
    "cannot_text": "Opted out of SMS (STOP): the bot could not send the safety reply;"
                   " they cannot be texted",
    "elsewhere": ELSEWHERE,
}

WINDOW_NAMES = {"anytime": "Any time", "mornings": "Mornings", "afternoons": "Afternoons",
                "evenings": "Evenings"}


def category(row: AlertRow) -> str:
    """The category in plain words; older alerts carry none."""
    return CATEGORIES.get(str(row.details.get("category", "")), UNKNOWN_CATEGORY)


def warnings(case: CaseRow | None, row: AlertRow) -> list[str]:
    """The case's flags that change how to respond, and whether the person can be texted."""
    flags = set((case.flags if case else row.case_flags).split(","))
    if row.details.get("where") in ("group", "supergroup", "channel"):
        flags.add("elsewhere")
    cannot_text = row.details.get("cannot_text") is True or bool(
        case and case.opted_out and case.channel == "sms")
    if cannot_text:
        flags.add("cannot_text")
    return [text for flag, text in WARNINGS.items() if flag in flags]


def _window(name: Any) -> str:
    if name not in WINDOWS:
        return "Not answered: safe times unknown"
    first, last = WINDOWS[name]
    return f"{WINDOW_NAMES.get(name, name)}, {first}:00 to {last}:00"


def safe_answers(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """The safe-contact answers as (question, answer) lines, unanswered ones said so."""
    safe = {"yes": "Yes", "no": "No: do not message them"}.get(
        str(answers.get("safe")), "Not answered: not confirmed safe")
    discreet = answers.get("discreet")
    wording = ("Discreet: nothing that says what the message is about" if discreet is True
               else "Plain words are fine" if discreet is False
               else "Not answered: keep it discreet")
    voicemail = {"yes": "Yes", "no": "No"}.get(
        str(answers.get("voicemail")), "Not answered: do not leave one")
    return [("Safe to message here", safe), ("Wording", wording),
            ("Safe times", _window(answers.get("safe_times"))),
            ("Voicemail allowed", voicemail)]


def ago(ts: float | None, now: float) -> str:
    """How long ago, in words (for when an alert was raised)."""
    if ts is None:
        return ""
    minutes = max(0, int(now - ts) // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min ago"
    return f"{minutes // 1440} days ago"
