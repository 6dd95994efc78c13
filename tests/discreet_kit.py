"""The discreet-mode word lists (tests/data/discreet/<locale>.txt) and the check that uses them."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from bot.i18n import normalise

LISTS = Path(__file__).resolve().parent / "data" / "discreet"


def patterns(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def listed_locales() -> set[str]:
    return {p.stem for p in LISTS.glob("*.txt")}


@cache
def banned() -> re.Pattern[str]:
    """Every list's words together: each must match one whole word."""
    words = [w for path in sorted(LISTS.glob("*.txt")) for w in patterns(path)]
    return re.compile("|".join(f"(?:{w})" for w in words))


def lint_words(text: str) -> list[str]:
    """The words of `text` that would give away what it is about, as normalised."""
    return [word for word in normalise(text).split(" ") if word and banned().fullmatch(word)]
