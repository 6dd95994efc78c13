"""How a facilitator's message will travel as SMS: encoding and segment count."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each) and its extension table (two septets each)
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
MAX_SEGMENTS = 3  # DESIGN section 6: never more than 3
# words a discreet SMS must not carry (DESIGN section 6)
TELLING_WORDS = ("crime", "offender", "restorative", "court")


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


def sms_size(text: str) -> SmsSize:
    """Segments as carriers count them: 160/153 GSM-7 septets, or 70/67 UCS-2 units."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsSize(encoding, units, segments)


def telling_words(text: str) -> list[str]:
    """Words that would tell an onlooker what the message is about."""
    lower = text.casefold()
    return [w for w in TELLING_WORDS if w in lower]
