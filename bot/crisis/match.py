"""Running one lexicon's rules over the words of a message.

Each word is looked up once into the set of term numbers it matches (`terms.Vocabulary`);
a rule is tried only at the words that can start it (an index from first-slot terms to rules),
then walked slot by slot, gaps and optional slots by backtracking. Vetoes run first: the words
a veto covers are not read by any rule, while every other word of the message still is, so a
veto for "this form is killing me" never hides "he has a knife" in the same message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.crisis.lexicon import Lexicon, Rule
from bot.crisis.normalise import Token
from bot.crisis.pattern import Anchor, Element, Gap, Not, Slot
from bot.crisis.terms import Vocabulary


@dataclass(frozen=True)
class _Slot:
    single: frozenset[int]  # terms that fill the slot alone
    heads: frozenset[int]  # first terms of its phrases
    tails: Mapping[int, tuple[tuple[int, ...], ...]]  # head -> the rest of each phrase
    exclude: frozenset[int]
    optional: bool
    at_end: bool
    context: bool  # may read vetoed words


@dataclass(frozen=True)
class _Not:
    exclude: frozenset[int]


_Step = _Slot | _Not | Gap | Anchor


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    steps: tuple[_Step, ...]
    needs: tuple[frozenset[int], ...]  # per required slot, terms one of which must occur
    unless: _Slot | None = None

    def possible(self, present: frozenset[int]) -> bool:
        """Whether every required slot has some term in the message: a cheap first test."""
        return all(not need.isdisjoint(present) for need in self.needs)


@dataclass(frozen=True)
class Hit:
    """A rule that matched the words `first` to `last` (exclusive) of a message."""

    rule: Rule
    first: int
    last: int
    taken: tuple[int, ...] = ()  # the words its slots matched (the rest were gaps)


@dataclass
class _Words:
    """One message as the walk sees it: the term set of each word, and the vetoed words."""

    terms: Sequence[frozenset[int]]
    blocked: Sequence[bool]
    pauses: Sequence[bool]  # punctuation before each word

    def free(self, pos: int, slot: _Slot) -> bool:
        """Whether word `pos` may fill `slot` at all (not vetoed, not excluded)."""
        return (slot.context or not self.blocked[pos]) and self.terms[pos].isdisjoint(slot.exclude)

    def ends(self, slot: _Slot, pos: int) -> list[int]:
        """Where a match of `slot` starting at word `pos` can end (phrases found by their
        first word, so a slot of a hundred phrases costs a set intersection)."""
        n = len(self.terms)
        if pos >= n or not self.free(pos, slot):
            return [pos] if slot.at_end and pos == n else []
        here = self.terms[pos]
        found = [] if here.isdisjoint(slot.single) else [pos + 1]
        for head in here & slot.heads:
            for tail in slot.tails[head]:
                end = pos + 1 + len(tail)
                if end <= n and all(t in self.terms[pos + 1 + j] and self.free(pos + 1 + j, slot)
                                    for j, t in enumerate(tail)):
                    found.append(end)
        return found


@dataclass(frozen=True)
class _Walk:
    """Matching one pattern's steps against one message, by backtracking. Rules take the
    shortest gaps; vetoes (`longest`) the longest, so a veto covers all the words it can."""

    steps: Sequence[_Step]
    words: _Words
    longest: bool = False
    clause: bool = False  # the match may not cross punctuation
    anything: int = -1  # the term of `#any`: words it takes count as gaps for `unless`

    def run(self, k: int, pos: int, first: int | None,
            taken: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]] | None:
        """(first word, end, words the slots took) of a match of steps[k:] from `pos`."""
        if k == len(self.steps):
            if first is None or (self.clause and any(self.words.pauses[first + 1:pos])):
                return None
            return first, pos, taken
        step, n = self.steps[k], len(self.words.terms)
        if isinstance(step, Anchor):
            at = n if step.end else 0
            return self.run(k + 1, pos, first, taken) if pos == at else None
        if isinstance(step, _Not):
            at = pos if k == len(self.steps) - 1 else pos - 1  # last: the word after the match
            if 0 <= at < n and not self.words.terms[at].isdisjoint(step.exclude):
                return None
            return self.run(k + 1, pos, first, taken)
        if isinstance(step, Gap):
            skips = range(min(step.most, n - pos) + 1)
            for skip in reversed(skips) if self.longest else skips:
                found = self.run(k + 1, pos + skip, first, taken)
                if found:
                    return found
            return None
        counts = step.heads or step.single != {self.anything}  # `#any` takes a gap word
        for end in self.words.ends(step, pos):
            found = self.run(k + 1, end, pos if first is None else first,
                             taken + tuple(range(pos, end)) if counts else taken)
            if found:
                return found
        return self.run(k + 1, pos, first, taken) if step.optional else None


class Matcher:
    """One lexicon, compiled: its vocabulary, rules, vetoes and the index of first terms."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        sms = lexicon.sms
        real = set(lexicon.known) | set(sms.readings) | {w for r in sms.readings.values()
                                                         for w in r}
        real |= {w for k, v in sms.replace.items() for w in k + v}
        self.vocabulary = Vocabulary(real)
        self.rules = tuple(self._compile(r) for r in lexicon.rules)
        self.vetoes = tuple(self._compile(r) for r in lexicon.vetoes)
        self.vocabulary.seal()
        self.rule_index = self._index(self.rules)
        self.veto_index = self._index(self.vetoes)
        self.unless_of = {v.rule.id: v.unless for v in self.vetoes}

    def _slot(self, slot: Slot) -> _Slot:
        ids = self.vocabulary.id
        single = frozenset(ids(a[0]) for a in slot.alternatives if len(a) == 1)
        tails: dict[int, list[tuple[int, ...]]] = defaultdict(list)
        for a in slot.alternatives:
            if len(a) > 1:
                tails[ids(a[0])].append(tuple(ids(t) for t in a[1:]))
        exclude = frozenset(ids(t) for t in slot.exclude)
        return _Slot(single, frozenset(tails), {h: tuple(t) for h, t in tails.items()}, exclude,
                     slot.optional, slot.at_end, slot.context)

    def _compile(self, rule: Rule) -> _Compiled:
        def step(e: Element) -> _Step:
            if isinstance(e, Not):
                return _Not(frozenset(self.vocabulary.id(t) for t in e.exclude))
            return self._slot(e) if isinstance(e, Slot) else e
        steps = tuple(step(e) for e in rule.elements)
        needs = tuple(st.single | st.heads for st in steps
                      if isinstance(st, _Slot) and not st.optional and not st.at_end)
        return _Compiled(rule, steps, needs, self._slot(rule.unless) if rule.unless else None)

    @staticmethod
    def _index(rules: Sequence[_Compiled]) -> tuple[dict[int, list[int]], list[int]]:
        """Rules by the terms that can fill their first word, and the rules anchored at ^."""
        by_term: dict[int, list[int]] = defaultdict(list)
        anchored = []
        for n, compiled in enumerate(rules):
            if isinstance(compiled.steps[0], Anchor):
                anchored.append(n)
                continue
            for step in compiled.steps:
                if isinstance(step, _Slot):
                    for t in step.single | step.heads:
                        by_term[t].append(n)
                    if not step.optional:
                        break
        return dict(by_term), anchored

    def _run(self, rules: Sequence[_Compiled], index: tuple[dict[int, list[int]], list[int]],
             words: _Words, every: bool = False) -> list[Hit]:
        """Hits of `rules`: the earliest per rule, or with `every` one per starting word."""
        by_term, anchored = index
        starts: dict[int, list[int]] = {n: [0] for n in anchored}
        for pos, here in enumerate(words.terms):
            for t in here:
                for n in by_term.get(t, ()):
                    at = starts.setdefault(n, [])
                    if not at or at[-1] != pos:
                        at.append(pos)
        present = frozenset().union(*words.terms)
        hits = []
        for n in sorted(starts):
            if not rules[n].possible(present):
                continue
            walk = _Walk(rules[n].steps, words, every, rules[n].rule.clause,
                         self.vocabulary.classes.get("#any", -1))
            for pos in starts[n]:
                found = walk.run(0, pos, None, ())
                if found:
                    hits.append(Hit(rules[n].rule, *found))
                    if not every:
                        break
        return hits

    @staticmethod
    def _spared(veto: Hit, unless: _Slot | None, words: _Words) -> bool:
        """Whether a gap of a veto holds an `unless` word ("he hit me in 2019 and now...")."""
        return unless is not None and any(
            words.ends(unless, pos) for pos in range(veto.first, veto.last)
            if pos not in veto.taken)

    def hits(self, toks: Sequence[Token]) -> list[Hit]:
        """The rules that match `toks` (one hit per rule, its earliest), in file order."""
        terms, blocked, pauses = self._blocked(toks)
        return self._run(self.rules, self.rule_index, _Words(terms, blocked, pauses))

    def benign(self, toks: Sequence[Token]) -> bool:
        """Whether a veto (an idiom, a denial, a past event) covers part of the message."""
        return any(self._blocked(toks)[1])

    def _blocked(self, toks: Sequence[Token]) -> tuple[list[Any], list[bool], list[Any]]:
        terms = [self.vocabulary.lookup(t.forms) for t in toks]
        pauses = [t.pause for t in toks]
        words = _Words(terms, [False] * len(terms), pauses)
        blocked = [False] * len(terms)
        for veto in self._run(self.vetoes, self.veto_index, words, every=True):
            if not self._spared(veto, self.unless_of[veto.rule.id], words):
                blocked[veto.first:veto.last] = [True] * (veto.last - veto.first)
        return terms, blocked, pauses
