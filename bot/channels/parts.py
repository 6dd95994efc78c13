"""One rendered message as the messages a channel sends: steps a translator marked, the SMS form.

A translation that does not fit one SMS budget (3 segments; a Nepali text is UCS-2, 67
characters a segment) is split into steps by the translator, not cut: a line holding only
`---` in a msgstr starts the next message. The choices arrive with the last step. Every
channel sends the steps as separate messages, in order.

Some languages are usually texted without their accents, and keeping them would turn the whole
SMS into UCS-2 (less than half the characters a segment): for those, the SMS form folds each
letter GSM-7 lacks to its plain letter ("ŵ" to "w", "ș" to "s"). Other channels keep the spelling.
"""

from __future__ import annotations

import re
import unicodedata

from bot.channels.segments import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, split_sms

PART_BREAK = "\n---\n"
_BREAK = re.compile(r"\n[ \t]*---[ \t]*(?:\n|$)")
# Welsh is commonly texted without the to bach (circumflex): "chi'n dod a'r plant i'r ty";
# Romanian without ă â î ș ț ("multumim, va sunam maine"), none of which GSM-7 has.
SMS_FOLDED_LOCALES = frozenset({"cy", "ro"})
_KEEP = frozenset(GSM7_BASIC + GSM7_EXTENSION)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u2013": "-", "\u2014": "-", "\u2026": "..."})


def steps(text: str) -> list[str]:
    """The separate messages a text is written as (one, unless a translator marked steps)."""
    found = [part.strip() for part in _BREAK.split(text)]
    return [part for part in found if part] or [""]


def joined(text: str) -> str:
    """The steps as one text, a blank line between them (for a page that shows the message)."""
    return "\n\n".join(steps(text))


def _plain(char: str) -> str:
    if char in _KEEP:
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c))
    return base if base and is_gsm7(base) else char


def sms_form(text: str, locale: str) -> str:
    """The text as an SMS carries it in `locale` (accents folded where people text so)."""
    if locale.split("_")[0] not in SMS_FOLDED_LOCALES or is_gsm7(text):
        return text
    return "".join(_plain(c) for c in text.translate(_QUOTES))


def sms_parts(text: str, locale: str) -> list[str]:
    """What goes out by SMS, in order: each step in the SMS form, split further only if a step
    alone is over the segment budget (cut at a paragraph, line or word)."""
    return [piece for step in steps(sms_form(text, locale)) for piece in split_sms(step)]
