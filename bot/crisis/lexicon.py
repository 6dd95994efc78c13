"""Reading one locale's lexicon file (`bot/crisis/lexicons/<locale>.txt`) into plain values.

The format is line-oriented; `#` starts a comment line (or, after a space, the rest of a line);
each other line starts with its kind:

    set   NAME = ALTERNATIVES        alternatives (a|b|c*) used in patterns as @NAME
    set   NAME += ALTERNATIVES       more alternatives for an existing set
    sms   TYPED WORDS = CANONICAL    what SMS spellings stand for: "sms im = i am"
    sms   TYPED ~ READING|READING    extra readings of one typed word: "sms 2 ~ to"
    known WORD WORD ...              real words never read as a typo of a lexicon word
    rule  CATEGORY.NAME  PATTERN     a message matching PATTERN may mean danger of CATEGORY
    veto  NAME  PATTERN              words matching PATTERN are not read by any rule
    veto  NAME  PATTERN unless SLOT  ... except when a word between its slots fills SLOT
                                     (a past event told beside a present one: "now")
    veto  NAME  , PATTERN            ... only within one clause (no , . ; : ! ? inside)

The pattern language is in `bot.crisis.pattern`. A malformed line raises LexiconError naming
the file and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.crisis.normalise import SmsTable, tokens
from bot.crisis.pattern import Element, Not, PatternError, Slot, alternatives, parse, slot

CATEGORIES = ("suicide", "overdose", "threat", "weapon", "intruder", "sexual_assault", "child",
              "help")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_COMMENT = re.compile(r"\s#\s.*$")


class LexiconError(ValueError):
    """A lexicon file that cannot be read: the message starts with `file:line:`."""


@dataclass(frozen=True)
class Rule:
    id: str  # "category.name" for rules, "veto.name" for vetoes
    category: str
    elements: tuple[Element, ...]
    unless: Slot | None = None  # vetoes only: a word in a gap that cancels the veto
    clause: bool = False  # vetoes only: the match may not cross punctuation


@dataclass(frozen=True)
class Lexicon:
    locale: str
    sms: SmsTable
    known: frozenset[str]
    rules: tuple[Rule, ...]
    vetoes: tuple[Rule, ...]


def _words(text: str) -> tuple[str, ...]:
    """SMS and known words are read exactly as a message would be (folded, no apostrophes)."""
    return tuple(t.raw for t in tokens(text))


class _Reader:
    """Collects the lines of one file; each method reads one kind of line."""

    def __init__(self) -> None:
        self.sets: dict[str, tuple[str, ...]] = {}
        self.replace: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.readings: dict[str, tuple[str, ...]] = {}
        self.known: set[str] = set()
        self.rules: list[Rule] = []
        self.vetoes: list[Rule] = []
        self.ids: set[str] = set()

    def set(self, rest: str) -> None:
        m = re.fullmatch(r"([a-z][a-z0-9_]*)\s*(\+?=)\s*(\S+)", rest)
        if not m:
            raise PatternError("expected `set NAME = a|b|c` (or `+=`)")
        name, op, alts = m.groups()
        if (op == "+=") != (name in self.sets):
            raise PatternError(f"set {name!r} " + ("is not defined yet" if op == "+=" else
                                                   "is already defined: extend it with +="))
        self.sets[name] = tuple(dict.fromkeys(self.sets.get(name, ()) +
                                              alternatives(alts, self.sets)))

    def sms(self, rest: str) -> None:
        if "~" in rest:
            typed, _, readings = rest.partition("~")
            words = _words(typed)
            alts = tuple(w for alt in readings.split("|") for w in _words(alt))
            if len(words) != 1 or not alts:
                raise PatternError("expected `sms WORD ~ READING|READING` (single words)")
            self.readings[words[0]] = self.readings.get(words[0], ()) + alts
            return
        typed, eq, meant = rest.partition("=")
        key, value = _words(typed), _words(meant)
        if not eq or not key or not value:
            raise PatternError("expected `sms TYPED WORDS = CANONICAL WORDS`")
        if key in self.replace:
            raise PatternError(f"SMS spelling {' '.join(key)!r} is defined twice")
        self.replace[key] = value

    def rule(self, rest: str, veto: bool) -> None:
        name, _, pattern = rest.partition(" ")
        category, dot, short = name.partition(".")
        if veto:
            category, short, dot = "veto", name, "."
        if not veto and (not dot or category not in CATEGORIES):
            raise PatternError(f"rule id {name!r}: expected CATEGORY.name, CATEGORY one of "
                               f"{', '.join(CATEGORIES)}")
        if not _NAME.fullmatch(short) or not pattern.strip():
            raise PatternError(f"{name!r}: expected a name (a-z first, then a-z, 0-9, _) "
                               "and a pattern after it")
        rule_id = f"{category}.{short}"
        if rule_id in self.ids:
            raise PatternError(f"{rule_id!r} is defined twice")
        self.ids.add(rule_id)
        clause = pattern.startswith(", ")
        if clause and not veto:
            raise PatternError("a leading `,` (within one clause) is for vetoes only")
        pattern, _, spare = pattern.removeprefix(", ").partition(" unless ")
        unless = slot(spare.strip(), self.sets, exact=True) if spare.strip() else None
        if (unless is not None and not veto) or isinstance(unless, Not):
            raise PatternError("`unless WORDS` only ends a veto, with words (not `!`)")
        (self.vetoes if veto else self.rules).append(
            Rule(rule_id, category, parse(pattern, self.sets, exact=veto), unless, clause))

    def line(self, text: str) -> None:
        kind, _, rest = text.partition(" ")
        rest = rest.strip()
        if kind == "set":
            self.set(rest)
        elif kind == "sms":
            self.sms(rest)
        elif kind == "known":
            self.known.update(w for word in rest.split() for w in _words(word))
        elif kind in ("rule", "veto"):
            self.rule(rest, veto=kind == "veto")
        else:
            raise PatternError(f"unknown line kind {kind!r} (set, sms, known, rule or veto)")

    def lexicon(self, locale: str) -> Lexicon:
        longest = max((len(k) for k in self.replace), default=1)
        sms = SmsTable(dict(self.replace), dict(self.readings), longest)
        return Lexicon(locale, sms, frozenset(self.known), tuple(self.rules), tuple(self.vetoes))


def parse_lexicon(text: str, locale: str, source: str) -> Lexicon:
    """Read the text of a lexicon file; `source` names it in error messages."""
    reader = _Reader()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        try:
            reader.line(line)
        except PatternError as exc:
            raise LexiconError(f"{source}:{number}: {exc}") from None
    if not reader.rules:
        raise LexiconError(f"{source}: no rules")
    return reader.lexicon(locale)


def load(path: Path) -> Lexicon:
    """Read the lexicon file at `path`; its name (without .txt) is the locale."""
    return parse_lexicon(path.read_text(encoding="utf-8"), path.stem, str(path))
