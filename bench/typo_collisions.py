"""Real words a lexicon would read as typos of its own words (for writing `known` lines).

    python bench/typo_collisions.py LOCALE WORDLIST [--min-length 4]

WORDLIST is a plain list of the language's words, one per line (Debian's wbritish and wpolish
packages install /usr/share/dict/british-english and /usr/share/dict/polish). Prints each
word of the list that matches a term of LOCALE's lexicon only through typo tolerance, with the
terms it would stand for; add the real, common ones to `known` lines in the lexicon so that,
say, "class" is never read as "glass". Not run by the tests (the word lists are not shipped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.crisis import matcher
from bot.crisis.normalise import tokens


def collisions(locale: str, words: list[str], min_length: int) -> dict[str, list[str]]:
    """Word -> the lexicon terms it matches only as a typo."""
    vocabulary = matcher(locale).vocabulary
    names = {n: t for t, n in vocabulary.ids.items()}
    found: dict[str, list[str]] = {}
    for word in words:
        toks = tokens(word)
        if len(toks) != 1 or len(toks[0].raw) < min_length:
            continue
        forms = toks[0].forms
        if any(vocabulary._exact(f) for f in forms) or any(f in vocabulary.real for f in forms):
            continue
        typo = set().union(*(vocabulary._typo(f) for f in forms))
        if typo:
            found[toks[0].raw] = sorted({names[n].text + ("*" if names[n].stem else "")
                                         for n in typo})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("locale")
    parser.add_argument("wordlist", type=Path)
    parser.add_argument("--min-length", type=int, default=4)
    args = parser.parse_args()
    words = args.wordlist.read_text(encoding="utf-8", errors="replace").split()
    for word, terms in sorted(collisions(args.locale, words, args.min_length).items()):
        print(f"{word}\t{' '.join(terms)}")


if __name__ == "__main__":
    main()
