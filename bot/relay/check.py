"""Safety checks on a letter before a facilitator approves it.

Warnings: a phone number, an email, a street address or postcode, or a name that is on the case.
For a letter from the person harmed, their own contact details can never go to the other
party: any phone number or email, their own name, their own place or area block approval until
the wording is changed (through an edit the author accepts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
STREET = re.compile(
    r"\b\d+[a-z]?,?\s+(?:[\w'-]+\s+){1,3}(?:street|st|road|rd|avenue|ave|lane|ln|close|drive|"
    r"dr|way|crescent|court|place|terrace|gardens|grove|hill|square|row|walk|mews)\b",
    re.IGNORECASE,
)
# "Mill Road", "Station Close": a capitalised name and a street word, without a number
NAMED_STREET = re.compile(
    r"\b[A-Z][a-z']+ (?:Street|Road|Avenue|Lane|Close|Drive|Way|Crescent|Court|Place|Terrace|"
    r"Gardens|Grove|Hill|Square|Row|Walk|Mews)\b"
)
KINDS = {
    "phone": "a phone number",
    "email": "an email address",
    "postcode": "a postcode",
    "street": "a street address",
    "name": "a name that is on the case",
    "own_phone": "the person's own phone number",
    "own_name": "the person's own name",
    "own_place": "a place the person gave us (where they live or want to meet)",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    found: str  # what matched, shown to the facilitator only
    blocking: bool

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class CaseDetails:
    """What the case knows that must not leak: the person's own details and names on the case."""

    own_phones: tuple[str, ...] = ()
    own_names: tuple[str, ...] = ()
    own_places: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phones(text: str) -> list[str]:
    return [m.group(0) for m in PHONE.finditer(text) if len(_digits(m.group(0))) >= 10]


def _mentions(text: str, words: Iterable[str]) -> list[str]:
    found = []
    for word in words:
        word = word.strip()
        if len(word) >= 2 and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            found.append(word)
    return found


def check(text: str, details: CaseDetails, from_victim: bool) -> list[Finding]:
    """Everything a facilitator must look at before approving this wording."""
    out: list[Finding] = []
    own = {_digits(p)[-10:] for p in details.own_phones if len(_digits(p)) >= 10}
    for phone in _phones(text):
        mine = _digits(phone)[-10:] in own
        out.append(Finding("own_phone" if mine else "phone", phone, from_victim))
    out += [Finding("email", m.group(0), from_victim) for m in EMAIL.finditer(text)]
    out += [Finding("postcode", m.group(0), False) for m in POSTCODE.finditer(text)]
    streets = [m.group(0) for m in STREET.finditer(text)]
    streets += [m.group(0) for m in NAMED_STREET.finditer(text)
                if not any(m.group(0) in s for s in streets)]
    out += [Finding("street", s, False) for s in streets]
    if from_victim:
        out += [Finding("own_name", n, True) for n in _mentions(text, details.own_names)]
        out += [Finding("own_place", p, True) for p in _mentions(text, details.own_places)]
        out += [Finding("name", n, False) for n in _mentions(text, details.other_names)]
    else:
        names = (*details.own_names, *details.other_names)
        out += [Finding("name", n, False) for n in _mentions(text, names)]
    return out
