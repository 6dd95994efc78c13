"""How a facilitator's message will travel as SMS: encoding and segment count."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.segments import segments

MAX_SEGMENTS = 3  # DESIGN section 6: never more than 3
# words a discreet SMS must not carry (DESIGN section 6)
TELLING_WORDS = ("crime", "offender", "restorative", "court")


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


def sms_size(text: str) -> SmsSize:
    """Segments as carriers count them (bot/channels/segments.py does the counting)."""
    seg = segments(text)
    return SmsSize(seg.encoding, seg.units, seg.count)


def telling_words(text: str) -> list[str]:
    """Words that would tell an onlooker what the message is about."""
    lower = text.casefold()
    return [w for w in TELLING_WORDS if w in lower]
