"""Which lexicon terms one word of a message stands for, typos included, fast.

Every distinct word, stem and class the patterns of one lexicon use gets a number; a word of a
message is looked up once into the set of numbers it matches and patterns compare sets. One
typo (insert, delete, substitute, or two neighbours swapped) is found SymSpell-style: each
typo-tolerant word is indexed under itself and every string one deletion away, so a lookup is
a handful of dictionary probes (the message word and its own deletions) plus a check of the
few candidates found, instead of a comparison with every word of the lexicon.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bot.crisis.pattern import TYPO_MIN, Term

MEMO_LIMIT = 100_000


def deletions(word: str) -> set[str]:
    """Every string one deleted letter away from `word`."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` are at most one insert, delete, substitute or adjacent swap apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1:] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i + 1:] == b[i + 1:] or swapped


class _Neighbours:
    """Strings indexed with their one-deletion neighbourhood, for typo lookups."""

    def __init__(self, words: Iterable[str]) -> None:
        self.index: dict[str, set[str]] = defaultdict(set)
        for word in words:
            for key in deletions(word) | {word}:
                self.index[key].add(word)

    def near(self, word: str) -> set[str]:
        found: set[str] = set()
        for key in deletions(word) | {word}:
            found.update(w for w in self.index.get(key, ()) if one_edit(word, w))
        return found


class Vocabulary:
    """The terms of one lexicon, numbered, and the lookup of a word's readings into them."""

    def __init__(self, real: Iterable[str]) -> None:
        self.ids: dict[Term, int] = {}
        self.words: dict[str, set[int]] = defaultdict(set)
        self.stems: dict[str, set[int]] = defaultdict(set)
        self.classes: dict[str, int] = {}
        self.typo_words: dict[str, set[int]] = defaultdict(set)
        self.typo_stems: dict[str, set[int]] = defaultdict(set)
        self.given_real = frozenset(real)
        self.memo: dict[tuple[str, ...], frozenset[int]] = {}
        self.seal()

    def seal(self) -> None:
        """Build the lookup tables; call once every term has its number."""
        self.real = self.given_real | frozenset(self.words)
        self.stem_lengths = sorted({len(s) for s in self.stems})
        self.typo_stem_lengths = sorted({len(s) for s in self.typo_stems})
        self.near_words = _Neighbours(self.typo_words)
        self.near_stems = _Neighbours(self.typo_stems)
        self.memo.clear()

    def share(self, real: frozenset[str]) -> None:
        """Words real in another lexicon too: never read as typos here either."""
        self.real = self.real | real
        self.memo.clear()

    def id(self, t: Term) -> int:
        """The number of term `t` (given on first sight; `seal` once all are given)."""
        if t in self.ids:
            return self.ids[t]
        n = self.ids[t] = len(self.ids)
        if t.text.startswith("#"):
            self.classes[t.text] = n
        else:
            (self.stems if t.stem else self.words)[t.text].add(n)
            if t.typo:
                (self.typo_stems if t.stem else self.typo_words)[t.text].add(n)
        return n

    def _exact(self, form: str) -> set[int]:
        found = set(self.words.get(form, ()))
        for size in self.stem_lengths:
            if size > len(form):
                break
            found.update(self.stems.get(form[:size], ()))
        if form.isdigit():
            year = len(form) == 4 and form[:2] in ("19", "20")
            kinds = ("#num", "#year") if year else ("#num",)
            found.update(n for c, n in self.classes.items() if c in kinds)
        return found

    def _typo(self, form: str) -> set[int]:
        """Terms one edit from `form`. A letter added at the end is not a typo but another
        ending ("zabrala" -> "zabralam" is I, not she; "knife" -> "knifes")."""
        found: set[int] = set()
        if len(form) >= TYPO_MIN - 1:
            for word in self.near_words.near(form):
                ending = len(form) == len(word) + 1 and form.startswith(word)
                if not ending or form[-1] == word[-1]:  # "ratunkuu" is ratunku typed long
                    found.update(self.typo_words[word])
        for size in self.typo_stem_lengths:
            for prefix in {form[:size - 1], form[:size], form[:size + 1]}:
                if len(prefix) >= TYPO_MIN - 1 and len(prefix) >= size - 1:
                    for stem in self.near_stems.near(prefix):
                        found.update(self.typo_stems[stem])
        return found

    def lookup(self, forms: tuple[str, ...]) -> frozenset[int]:
        """The terms any reading of one word matches; typos only for words no term or real
        word matches exactly."""
        if forms in self.memo:
            return self.memo[forms]
        found: set[int] = set()
        for form in forms:
            found |= self._exact(form)
        if not found and not any(f in self.real or f.isdigit() for f in forms):
            for form in forms:
                found |= self._typo(form)
        if "#any" in self.classes:
            found.add(self.classes["#any"])
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        result = self.memo[forms] = frozenset(found)
        return result
