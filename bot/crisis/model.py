"""A second opinion learned from the corpora: a linear model over words, word pairs and letter
groups, for the many ways of saying it that no lexicon rule foresaw.

`scripts/train_crisis.py` fits it (scikit-learn, a development tool) on every shipped
locale's corpus in tests/data/risk/ and writes `bot/crisis/model.json`: for each feature its
inverse document frequency, its weight for "crisis", and its weights for each category. Read
once and cached; after that scoring is arithmetic (pure, like the lexicons).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.i18n import normalise

MODEL = Path(__file__).resolve().parent / "model.json"
GRAMS = (3, 4, 5)  # letter groups inside each word, with the word's edges marked


def features(text: str) -> list[str]:
    """Words, word pairs and letter groups of the normalised text (training uses this too)."""
    words = normalise(text).split()
    found = [f"b:{a} {b}" for a, b in pairwise(words)]
    for word in words:
        found += _word_features(word)
    return found


@lru_cache(maxsize=65536)
def _word_features(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    grams = [f"c:{padded[i:i + n]}" for n in GRAMS for i in range(len(padded) - n + 1)]
    return (f"w:{word}", *grams)


@dataclass(frozen=True)
class Model:
    """Feature -> (idf, crisis weight, category weights); thresholds chosen at training."""

    weights: dict[str, tuple[float, float, tuple[float, ...]]]
    bias: float
    category_bias: tuple[float, ...]
    categories: tuple[str, ...]
    sure: float  # crisis on the model's word alone
    plausible: float  # below this, a lexicon match is taken as a benign use
    sure_despite_veto: float  # the model's word alone where a lexicon veto saw a benign use

    def _vector(self, text: str) -> list[tuple[float, tuple[float, float, tuple[float, ...]]]]:
        counts = Counter(f for f in features(text) if f in self.weights)
        values = [((1 + math.log(n)) * self.weights[f][0], self.weights[f])
                  for f, n in counts.items()]
        norm = math.sqrt(sum(v * v for v, _ in values)) or 1.0
        return [(v / norm, w) for v, w in values]

    def probability(self, text: str) -> float:
        """How likely the message means danger now, 0 to 1."""
        z = self.bias + sum(v * w[1] for v, w in self._vector(text))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def category(self, text: str) -> str:
        """The most likely kind of danger (for a message the lexicons did not name)."""
        scores = list(self.category_bias)
        for v, w in self._vector(text):
            for i, c in enumerate(w[2]):
                scores[i] += v * c
        return self.categories[max(range(len(scores)), key=scores.__getitem__)]


def parse(data: Mapping[str, Any]) -> Model:
    """The model from its JSON form (as scripts/train_crisis.py writes it)."""
    weights = {f: (float(v[0]), float(v[1]), tuple(float(c) for c in v[2]))
               for f, v in data["features"].items()}
    return Model(weights, float(data["bias"]), tuple(float(b) for b in data["category_bias"]),
                 tuple(str(c) for c in data["categories"]), float(data["sure"]),
                 float(data["plausible"]), float(data["sure_despite_veto"]))


@cache
def model() -> Model | None:
    """The shipped model, or None if there is none (the lexicons then decide alone)."""
    if not MODEL.exists():
        return None
    return parse(json.loads(MODEL.read_text(encoding="utf-8")))
