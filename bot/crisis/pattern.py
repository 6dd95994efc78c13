"""The pattern language of the lexicon files, parsed into plain values.

A pattern is a line of elements separated by spaces:

    kill*|end ..2 myself|me          two slots with a gap of up to two words between them
    ^ help|helpp me? please? $       a whole message; `me?` and `please?` may be missing

- a slot matches one word: alternatives separated by `|`; `word` (one typo allowed when it
  has 5+ letters), `=word` (exact), `stem*` (any word starting so; one typo when the stem has
  6+ letters), `=stem*`, `#num` (a number), `#year` (1900-2099), `#any` (any word), `a_b`
  (the words a b in a row), `@name` (the alternatives of a `set` line), `!word` / `!stem*`
  (this word does NOT fill the slot, e.g. `noz*|!nozk*`), `$` (the end of the message fills
  the slot too); a trailing `?` makes the slot optional; a leading `~` lets it read words a
  veto hides (context: "~self_harm* ..10 started_again" after "self harmed as a teen");
- a slot that starts with `!` is a check that takes no word: the word before the next slot
  is none of its alternatives (`!not|never safe`: "safe" but not "not safe"); last in a
  pattern, the word after the match is none of them;
- `...` lets up to 3 other words stand between two slots, `..N` up to N (1-12);
- `^` and `$` are the start and end of the message.

Words are folded like the messages (case, accents: "nóż" is written or read as "noz").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.i18n import fold

TYPO_MIN = 5  # words this long tolerate one typo; shorter ones must be exact
STEM_TYPO_MIN = 6  # a stem is a prefix of many words: one typo only from 6 letters
CLASSES = ("#num", "#year", "#any")
DEFAULT_GAP = 3
_TEXT = re.compile(r"(?:[^\W_]|[\u0900-\u097f])+")
_GAP = re.compile(r"\.\.([1-9]|1[0-2])")


@dataclass(frozen=True)
class Term:
    """What one word of a message must be: a word, a stem (prefix) or a class of words."""

    text: str
    stem: bool = False
    exact: bool = False

    @property
    def typo(self) -> bool:
        """Whether one edit (insert, delete, substitute, swap two neighbours) still matches."""
        least = STEM_TYPO_MIN if self.stem else TYPO_MIN
        return not self.exact and not self.text.startswith("#") and len(self.text) >= least


@dataclass(frozen=True)
class Slot:
    """One or more words in a row; `alternatives` are phrases (a single word is a 1-phrase)."""

    alternatives: tuple[tuple[Term, ...], ...]
    exclude: tuple[Term, ...] = ()
    optional: bool = False
    at_end: bool = False  # `$` among the alternatives: the end of the message fills it too
    context: bool = False  # `~slot`: may read words a veto hides (what came before)


@dataclass(frozen=True)
class Not:
    """No word: the word before the next slot (or, last, after the match) is not `exclude`."""

    exclude: tuple[Term, ...]


@dataclass(frozen=True)
class Gap:
    most: int


@dataclass(frozen=True)
class Anchor:
    end: bool  # False: start of the message, True: its end


Element = Slot | Not | Gap | Anchor


class PatternError(ValueError):
    """A pattern that cannot be read; the message says which part and why."""


def term(text: str, exact: bool = False) -> Term:
    """One word of a pattern: `=` exact, `*` stem, `#num`/`#year`/`#any` classes."""
    if text in CLASSES:
        return Term(text, exact=True)
    marked, stem = text.startswith("="), text.endswith("*")
    word = fold(text[1 if marked else 0:len(text) - 1 if stem else len(text)])
    if not _TEXT.fullmatch(word):
        raise PatternError(f"{text!r} is not a word (letters and digits only)")
    return Term(word, stem=stem, exact=exact or marked)


def alternatives(text: str, sets: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """`a|b|@name` with each `@name` replaced by the alternatives of that set."""
    found: list[str] = []
    for alt in text.split("|"):
        if alt.startswith("@"):
            if alt[1:] not in sets:
                raise PatternError(f"unknown set {alt!r} (define it above with `set`)")
            found.extend(sets[alt[1:]])
        elif alt:
            found.append(alt)
        else:
            raise PatternError(f"empty alternative in {text!r}")
    return tuple(dict.fromkeys(found))


def slot(text: str, sets: Mapping[str, tuple[str, ...]], exact: bool = False) -> Slot | Not:
    context = text.startswith("~") and len(text) > 1
    text = text[1:] if context else text
    optional = text.endswith("?") and len(text) > 1
    if text.startswith("!"):  # `!a|b|c`: a check that the word is none of a, b, c
        words = alternatives(text[1:], sets)
        return Not(tuple(term(w.lstrip("!"), exact=True) for w in words))
    alts: list[tuple[Term, ...]] = []
    exclude: list[Term] = []
    at_end = False
    for alt in alternatives(text[:-1] if optional else text, sets):
        if alt == "$":
            at_end = True
        elif alt.startswith("!"):
            exclude.extend(term(x, exact=True) for x in alternatives(alt[1:], sets))
        else:
            alts.append(tuple(term(part, exact) for part in alt.split("_")))
    if not alts:
        raise PatternError(f"slot {text!r} has no word that fills it")
    return Slot(tuple(alts), tuple(exclude), optional, at_end, context)


def element(text: str, sets: Mapping[str, tuple[str, ...]], exact: bool = False) -> Element:
    if text in ("^", "$"):
        return Anchor(end=text == "$")
    if text == "...":
        return Gap(DEFAULT_GAP)
    gap = _GAP.fullmatch(text)
    if gap:
        return Gap(int(gap.group(1)))
    if text.startswith(".."):
        raise PatternError(f"gap {text!r}: write `...` or `..N` with N from 1 to 12")
    return slot(text, sets, exact)


def _check(elements: tuple[Element, ...]) -> None:
    slots = [e for e in elements if isinstance(e, Slot)]
    if not slots or all(s.optional for s in slots):
        raise PatternError("a pattern needs at least one slot that is not optional")
    for i, e in enumerate(elements):
        if isinstance(e, Anchor) and i != (len(elements) - 1 if e.end else 0):
            raise PatternError("^ may only start a pattern and $ only end it")
        if isinstance(e, Gap) and (i in (0, len(elements) - 1)
                                   or isinstance(elements[i - 1], Gap)):
            raise PatternError("a gap must stand between two slots (or a slot and ^/$)")


def parse(text: str, sets: Mapping[str, tuple[str, ...]],
          exact: bool = False) -> tuple[Element, ...]:
    """The elements of one pattern line (see the module docstring); `exact`: no typos."""
    elements = tuple(element(part, sets, exact) for part in text.split())
    if not elements:
        raise PatternError("empty pattern")
    _check(elements)
    return elements
