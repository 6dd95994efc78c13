"""From the text a person typed to the words the lexicons are written in.

Two stages. `tokens` is the same for every locale: split into words (keeping where each came
from in the original text, so a match can show the span the person wrote), fold case and
accents with `bot.i18n.fold`, drop apostrophes ("he's" -> "hes"), and give each word its other
possible readings: letters repeated three or more times squeezed ("heeelp" -> "help",
"pleeease" -> "please"), digits read as letters inside words ("k1ll", "h3lp"), a number stuck to
its unit split ("20mg" -> "20 mg"). `canonical` then applies one locale's SMS table ("im" ->
"i am", "he s" -> "he is", "2" also read as "to"), so lexicon rules are written once, in full
words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import product

from bot.i18n import fold

# Laughing and winking emoji read as the word "haha": a joke is not a crisis.
LAUGHS = frozenset("\U0001F602\U0001F923\U0001F606\U0001F605\U0001F61C\U0001F61D\U0001F609"
                   "\U0001F643\U0001F604")
_LAUGH = f"[{''.join(sorted(LAUGHS))}]"
# Letters, digits, the combining marks NFKD makes of accents (and Devanagari vowel signs), and
# @ / $ (read as letters inside a word, "h@mmer"); apostrophes only between word characters.
_CHAR = r"(?:[^\W_]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f@$])"
_WORD = re.compile(rf"{_CHAR}+(?:['’‘`´]{_CHAR}+)*|{_LAUGH}")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_PAUSE = re.compile(r"[,.;:!?\n]")
_LEET = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_RUN = re.compile(r"([^\W\d_])\1\1+")
_NUMBER_UNIT = re.compile(r"(\d+)([^\W\d_]+)")
UNITS = frozenset({"mg", "g", "ml", "l", "x", "am", "pm", "h", "hr", "hrs", "min", "mins", "s",
                   "tabs", "pills", "cm", "kg", "st", "nd", "rd", "th"})
MAX_FORMS = 8


@dataclass(frozen=True)
class Token:
    """One word: its span in the original text and the readings it may stand for (raw first)."""

    start: int
    end: int
    forms: tuple[str, ...]
    pause: bool = False  # punctuation (, . ; : ! ? or a new line) stands before this word

    @property
    def raw(self) -> str:
        return self.forms[0]


def squeezed(word: str) -> tuple[str, ...]:
    """`word` with each letter typed three or more times in a row read once and twice."""
    runs = list(_RUN.finditer(word))
    if not runs:
        return ()
    if len(runs) > 3:  # too many combinations: the two extremes
        return (_RUN.sub(r"\1", word), _RUN.sub(r"\1\1", word))
    found = []
    for counts in product((1, 2), repeat=len(runs)):
        parts, last = [], 0
        for run, count in zip(runs, counts, strict=True):
            parts.append(word[last:run.start()] + run.group(1) * count)
            last = run.end()
        found.append("".join(parts) + word[last:])
    return tuple(found)


def deleet(word: str) -> tuple[str, ...]:
    """Readings of a word with digits or @/$ among its letters: "k1ll" -> "kill", "kiii"."""
    if word.isdigit() or not any(c in _LEET for c in word) or not any(c.isalpha() for c in word):
        return ()
    choices = [_LEET.get(c, c) for c in word]
    readings = ["".join(p) for p in product(*choices)]
    return tuple(readings[:MAX_FORMS])


def _forms(word: str) -> tuple[str, ...]:
    found = [word]
    for reading in (word, *deleet(word)):
        for form in (reading, *squeezed(reading)):
            if form not in found:
                found.append(form)
    return tuple(found[:MAX_FORMS])


def _split_unit(word: str, start: int) -> list[Token] | None:
    """"20mg" -> "20", "mg" (each with its own span); None when `word` is not a number+unit."""
    m = _NUMBER_UNIT.fullmatch(word)
    if not m or (m.group(2) not in UNITS and len(m.group(1)) < 2):
        return None
    cut = start + len(m.group(1))
    return [Token(start, cut, (m.group(1),)), Token(cut, start + len(word), (m.group(2),))]


def tokens(text: str) -> tuple[Token, ...]:
    """The words of `text`, folded, each with its readings (the same for every locale)."""
    found: list[Token] = []
    last = 0
    for m in _WORD.finditer(text):
        text_ = m.group()
        word = "haha" if text_ in LAUGHS else fold(text_).translate(_APOSTROPHES)
        if not word:
            continue
        pause = bool(found) and _PAUSE.search(text, last, m.start()) is not None
        last = m.end()
        split = _split_unit(word, m.start()) if len(word) == m.end() - m.start() else None
        words = split or [Token(m.start(), m.end(), _forms(word))]
        found.append(replace(words[0], pause=pause))
        found.extend(words[1:])
    return tuple(found)


@dataclass(frozen=True)
class SmsTable:
    """One locale's SMS spellings: typed words -> canonical words, and extra single readings."""

    replace: Mapping[tuple[str, ...], tuple[str, ...]]
    readings: Mapping[str, tuple[str, ...]]
    longest: int


def _replacement(toks: Sequence[Token], i: int, table: SmsTable) -> tuple[int, tuple[str, ...]]:
    """How many tokens from `i` an SMS spelling covers (0 if none) and what they stand for."""
    for size in range(min(table.longest, len(toks) - i), 1, -1):
        key = tuple(t.raw for t in toks[i:i + size])
        if key in table.replace:
            return size, table.replace[key]
    for form in toks[i].forms:
        if (form,) in table.replace:
            return 1, table.replace[(form,)]
    return 0, ()


def canonical(toks: Sequence[Token], table: SmsTable) -> tuple[Token, ...]:
    """`toks` with one locale's SMS spellings read as the canonical words its lexicon uses."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        size, words = _replacement(toks, i, table)
        if size:
            start, end = toks[i].start, toks[i + size - 1].end
            out.extend(Token(start, end, (w,), toks[i].pause and n == 0)
                       for n, w in enumerate(words))
            i += size
            continue
        tok = toks[i]
        extra = [r for f in tok.forms for r in table.readings.get(f, ()) if r not in tok.forms]
        out.append(replace(tok, forms=tok.forms + tuple(dict.fromkeys(extra))) if extra
                   else tok)
        i += 1
    return tuple(out)
