"""Crisis recognition: does a message someone sent mean they may be in danger right now?

Pure: each locale's lexicon file is read once (then cached, like the gettext catalogs), and
after that `detect` only computes; no clock, no randomness, no I/O. Every shipped locale
(`bot.i18n.LOCALES`) is checked on every message, whatever language the person chose.

Each locale has one data file, `bot/crisis/lexicons/<locale>.txt` (a new locale is one new
file). Lines, `#` for comments:

    set   subj = he|she|they|ex|partner          named alternatives, used as @subj
    sms   hes = he is                            SMS spellings read as canonical words
    sms   2 ~ to                                 an extra reading of one typed word
    known bills                                  a real word, never read as a typo
    rule  weapon.has_knife  @subj ... knife*     CATEGORY.name, then a pattern
    veto  knife_and_fork  knife_and_fork         words a veto covers are read by no rule
    veto  past , #any ..4 last_year unless now   within one clause; not if "now" is between

Patterns (details in `bot.crisis.pattern`): slots of `|` alternatives, `stem*`, `=exact`,
`a_b` phrases, `!excluded`, `#num`, `#year`, `#any`, optional `slot?`, `~slot` (reads vetoed
words), `!not|never` checks; `...` (up to 3 words) or `..N` between slots; `^`/`$` for the
start/end of the message. Words of 5+ letters (stems of 6+) tolerate one typo, found through
precomputed deletion neighbourhoods (`bot.crisis.terms`); a word that is real in any lexicon
(`known`, or a lexicon word) is never read as a typo. Messages are normalised first
(`bot.crisis.normalise`): case, accents, apostrophes, letters typed many times, digits inside
words, laughing emoji, then the locale's SMS table. `bench/risk.py` measures recall, false
alarms and speed on tests/data/risk; `bench/typo_collisions.py` finds `known` words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from bot.crisis.lexicon import CATEGORIES, LexiconError, load
from bot.crisis.match import Matcher
from bot.crisis.model import model
from bot.crisis.normalise import canonical, tokens
from bot.i18n import LOCALES, normalise

__all__ = ["CATEGORIES", "Crisis", "LexiconError", "detect", "detect_all", "lexicon_path",
           "warm"]
LEXICONS = Path(__file__).resolve().parent / "lexicons"


@dataclass(frozen=True)
class Crisis:
    """A part of a message that may mean danger, and the rule that says so."""

    category: str  # one of CATEGORIES
    locale: str  # the lexicon that matched
    words: str  # the span of the original message that matched (shown in the console only)
    rule: str  # id of the lexicon rule that matched (for bench/debugging; not personal)


def lexicon_path(locale: str) -> Path:
    return LEXICONS / f"{locale}.txt"


@cache
def matchers() -> dict[str, Matcher]:
    """Every shipped locale's compiled lexicon, each file read once. A word that is real in
    any of them (a lexicon word or a `known` word) is read as a typo by none."""
    found = {}
    for locale in LOCALES:
        path = lexicon_path(locale)
        if not path.exists():
            raise LexiconError(f"{path}: no crisis lexicon for shipped locale {locale!r}")
        found[locale] = Matcher(load(path))
    real = frozenset().union(*(m.vocabulary.real for m in found.values()))
    for m in found.values():
        m.vocabulary.share(real)
    return found


def matcher(locale: str) -> Matcher:
    return matchers()[locale]


def detect_all(text: str) -> tuple[Crisis, ...]:
    """Every distinct match in every shipped locale, most urgent category first (the order
    of CATEGORIES), then by where it starts in the message, then by locale."""
    base = tokens(text)
    found: dict[tuple[str, str, int, int], tuple[tuple[int, int, int], Crisis]] = {}
    for rank, locale in enumerate(LOCALES):
        toks = canonical(base, matcher(locale).lexicon.sms)
        for hit in matcher(locale).hits(toks):
            start, end = toks[hit.first].start, toks[hit.last - 1].end
            key = (hit.rule.category, locale, start, end)
            if key not in found:
                order = (CATEGORIES.index(hit.rule.category), start, rank)
                found[key] = order, Crisis(hit.rule.category, locale, text[start:end], hit.rule.id)
    return tuple(crisis for _, crisis in sorted(found.values(), key=lambda f: f[0]))


@lru_cache(maxsize=4096)  # pure: a step asks about the same text more than once
def detect(text: str) -> Crisis | None:
    """Danger in any shipped language: the lexicons' most urgent match (`detect_all`) unless
    the learned model (bot.crisis.model) finds the message plainly benign, or the model's word
    alone when it is sure (the many ways of saying it no rule foresaw)."""
    found = detect_all(text)
    learned = model()
    if learned is None:
        return found[0] if found else None
    likely = learned.probability(text)
    if found and likely >= learned.plausible:
        return found[0]
    if likely < learned.sure or len(base_words(text)) < MODEL_MIN_WORDS:
        return None  # a word or two alone ("helpline") is for the lexicons to judge
    # a lexicon veto (an idiom, "i'm not suicidal") asks the model to be surer still
    if likely < learned.sure_despite_veto and benign(text):
        return None
    return Crisis(learned.category(text), "model", text.strip(), "model")


MODEL_MIN_WORDS = 4


def warm() -> None:
    """Read every lexicon and the model now (at start-up), not on the first person's message:
    the first message otherwise waited for them (about half a second of CPU)."""
    matchers()
    model()


def base_words(text: str) -> list[str]:
    return normalise(text).split()


def benign(text: str) -> bool:
    """Whether any shipped lexicon's veto covers part of the message."""
    base = tokens(text)
    return any(matcher(loc).benign(canonical(base, matcher(loc).lexicon.sms)) for loc in LOCALES)
