"""Common real words that some lexicon would read as a typo of its own words.

    python bench/typo_collisions.py WORDLIST [--min-length 4] [--known]

WORDLIST: common words of one language, one per line (most common first is fine). Prints each
word that some shipped lexicon matches only through typo tolerance, with the terms it would
stand for ("class -> glass"). With --known, prints `known` lines instead, ready to paste into
that language's lexicon file (leaving out words that look like another ending of the same
word): a known word is real, so no lexicon reads it as a typo.

Every shipped lexicon is checked because every lexicon reads every message: an English word
can collide with a Polish term ("confidential" -> "konfident*"). The lists used for the
shipped files were the words with a Zipf frequency of at least 3 (once per million words) in
the `wordfreq` package's English and Polish data, but any list of common words works. Not run
by the tests; not needed at run time.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.crisis import matchers
from bot.crisis.match import Matcher
from bot.crisis.normalise import tokens


def _typo_only(m: Matcher, forms: tuple[str, ...]) -> set[str]:
    """The terms `forms` match through a typo alone (empty if they match exactly or are real)."""
    vocabulary = m.vocabulary
    if any(vocabulary._exact(f) for f in forms) or any(f in vocabulary.real for f in forms):
        return set()
    names = {n: t.text + ("*" if t.stem else "") for t, n in vocabulary.ids.items()}
    return {names[n] for f in forms for n in vocabulary._typo(f)}


def collisions(words: list[str], min_length: int) -> dict[str, list[str]]:
    """Word -> the lexicon terms (in any shipped locale) it matches only as a typo."""
    found: dict[str, list[str]] = {}
    for word in words:
        toks = tokens(word)
        if len(toks) != 1 or len(toks[0].raw) < min_length:
            continue
        terms = set().union(*(_typo_only(m, toks[0].forms) for m in matchers().values()))
        if terms:
            found.setdefault(toks[0].raw, sorted(terms))
    return found


def inflection(word: str, term: str) -> bool:
    """Whether `word` looks like another ending of `term` ("abusers" of "abuser"): such a
    typo reading is usually right, so --known leaves it out. A stem never counts."""
    if term.endswith("*"):
        return False
    same = 0
    while same < min(len(word), len(term)) and word[same] == term[same]:
        same += 1
    return same >= 4 and same >= min(len(word), len(term)) - 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wordlist", type=Path)
    parser.add_argument("--min-length", type=int, default=4)
    parser.add_argument("--known", action="store_true")
    args = parser.parse_args()
    words = args.wordlist.read_text(encoding="utf-8", errors="replace").split()
    found = collisions(words, args.min_length)
    if args.known:
        real = [w for w, terms in found.items() if not all(inflection(w, t) for t in terms)]
        for line in textwrap.wrap(" ".join(sorted(real)), 94):
            print(f"known {line}")
        return
    for word, terms in sorted(found.items()):
        print(f"{word}\t{' '.join(terms)}")


if __name__ == "__main__":
    main()
