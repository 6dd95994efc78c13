"""How many SMS segments a text costs: GSM-7 where every character allows, else UCS-2."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_NOT_GSM7 = re.compile("[^" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    count: int


def is_gsm7(text: str) -> bool:
    return _NOT_GSM7.search(text) is None  # one scan in C (a loop per character was ~1%)


def segments(text: str) -> Segments:
    """The segment count a carrier bills: 160/153 septets or 70/67 UTF-16 units."""
    if is_gsm7(text):
        units = len(text) + sum(text.count(c) for c in GSM7_EXTENSION)  # escape + char
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    count = 1 if units <= single else math.ceil(units / multi)
    return Segments(encoding, units, count)


MAX_SEGMENTS = 3  # DESIGN section 6: a message is never more than 3 segments


def split_sms(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Long texts as several messages of at most `max_segments` each (the choices, at the end,
    arrive with the last part)."""
    return split_fitting(text, lambda t: segments(t).count <= max_segments)


def split_fitting(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Long texts as several parts that each `fits` (which must only fail more as a text
    grows), cut at a paragraph, line or word where possible, else mid-word."""
    parts: list[str] = []
    rest = text
    while not fits(rest):
        low, high = 1, len(rest)  # the longest prefix that fits
        while low < high:
            mid = (low + high + 1) // 2
            if fits(rest[:mid]):
                low = mid
            else:
                high = mid - 1
        cut = low
        for sep in ("\n\n", "\n", " "):
            at = rest.rfind(sep, 0, cut + 1)
            if at > cut // 2:
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest]
