#!/usr/bin/env python3
"""Fit the crisis model (bot/crisis/model.py) on every shipped locale's corpus.

Usage: python scripts/train_crisis.py [--holdout DIR] [--out bot/crisis/model.json]
Needs scikit-learn (a development dependency; the shipped model is plain JSON). With
--holdout, prints recall and false alarms on DIR/<locale>.tsv files (messages not trained on)
for the thresholds chosen, as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from bot.crisis.lexicon import CATEGORIES  # noqa: E402
from bot.crisis.model import features, parse  # noqa: E402
from bot.i18n import LOCALES  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "risk"
# chosen on held-out messages (see the README's crisis section): the model's word alone;
# below PLAUSIBLE a lexicon match is a benign use; where a lexicon veto fired, SURE_VETOED
SURE, PLAUSIBLE, SURE_VETOED = 0.8, 0.1, 0.95
KEEP = 0.01  # features whose every weight is smaller than this are left out of the file


def read(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, category, text = line.split("\t")
            rows.append((label, category, text))
    return rows


def train(rows: list[tuple[str, str, str]], c: float = 30.0) -> dict[str, object]:
    vec = TfidfVectorizer(analyzer=features, sublinear_tf=True)
    x = vec.fit_transform([t for _, _, t in rows])
    y = [label == "crisis" for label, _, _ in rows]
    binary = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)
    crisis = [i for i, (label, _, _) in enumerate(rows) if label == "crisis"]
    cats = LogisticRegression(C=c, max_iter=5000).fit(x[crisis], [rows[i][1] for i in crisis])
    order = [list(cats.classes_).index(k) for k in CATEGORIES if k in cats.classes_]
    names = [str(cats.classes_[i]) for i in order]
    out: dict[str, list[object]] = {}
    for feature, col in vec.vocabulary_.items():
        w = float(binary.coef_[0][col])
        per = [float(cats.coef_[i][col]) for i in order]
        # the idf of every feature stays: the vector is normalised over all of them
        keep = abs(w) >= KEEP or max(abs(p) for p in per) >= KEEP
        out[feature] = [round(float(vec.idf_[col]), 4), round(w, 4) if keep else 0.0,
                        [round(p, 3) for p in per] if keep else [0.0] * len(per)]
    return {"version": 1, "bias": float(binary.intercept_[0]), "features": out,
            "category_bias": [float(cats.intercept_[i]) for i in order], "categories": names,
            "sure": SURE, "plausible": PLAUSIBLE, "sure_despite_veto": SURE_VETOED}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bot" / "crisis" / "model.json")
    parser.add_argument("--holdout", type=Path)
    args = parser.parse_args()
    rows = [r for loc in LOCALES if (CORPUS / f"{loc}.tsv").exists()
            for r in read(CORPUS / f"{loc}.tsv")]
    data = train(rows)
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    if args.holdout:
        model = parse(data)
        report = {}
        for path in sorted(args.holdout.glob("*.tsv")):
            held = read(path)
            p = [model.probability(t) for _, _, t in held]
            crisis = [x for x, (lab, _, _) in zip(p, held, strict=True) if lab == "crisis"]
            calm = [x for x, (lab, _, _) in zip(p, held, strict=True) if lab != "crisis"]
            report[path.stem] = {"recall_at_sure": sum(x >= SURE for x in crisis) / len(crisis),
                                 "false_at_sure": sum(x >= SURE for x in calm) / len(calm)}
        print(json.dumps(report, indent=1))
    print(f"{len(rows)} messages, {len(data['features'])} features -> {args.out}",  # type: ignore[arg-type]
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
