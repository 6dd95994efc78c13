"""Crisis recognition on the development corpus: recall, false alarms, and speed.

    python bench/risk.py [--data tests/data/risk] [--heldback tests/data/risk/heldback]
                         [--seconds 3] [--misses]

Prints one JSON object: for each corpus file (one per locale) the recall on crisis lines, the
false-alarm rate on ordinary lines, recall per category and false alarms per ordinary kind,
with counts; the same for each held-back file (`heldback`: messages the lexicons and model
were never tuned or trained on); every shipped locale is listed, `"missing": true` where it has
no file, and a file for a locale not yet shipped says `"shipped": false`; then the throughput
of `bot.crisis.detect` as a ratio against plain `bot.i18n.normalise` of the same messages in
the same run (the machine is shared and noisy: compare ratios, not absolute times).
`--misses` prints each missed crisis line and each falsely flagged ordinary line to stderr,
with the rule that fired.

Corpus lines: `label<TAB>category<TAB>text`, label `crisis` (category one of CATEGORIES) or
`ordinary` (category `ordinary` or `alarming_words`); `#` starts a comment line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import crisis
from bot.i18n import LOCALES, normalise

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "risk"
HELDBACK = DATA / "heldback"  # scripts/train_crisis.py reads only DATA/<locale>.tsv
ORDINARY_KINDS = ("ordinary", "alarming_words")


@dataclass(frozen=True)
class Sample:
    crisis: bool
    category: str
    text: str
    where: str  # file:line, for messages about this line


def read_corpus(path: Path) -> list[Sample]:
    """The lines of one corpus file; a malformed line raises ValueError naming file and line."""
    samples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        kinds = crisis.CATEGORIES if parts[0] == "crisis" else ORDINARY_KINDS
        if len(parts) != 3 or parts[0] not in ("crisis", "ordinary") or parts[1] not in kinds:
            raise ValueError(f"{path}:{number}: expected label<TAB>category<TAB>text")
        samples.append(Sample(parts[0] == "crisis", parts[1], parts[2], f"{path.name}:{number}"))
    return samples


@dataclass(frozen=True)
class Score:
    recall: float
    false_alarms: float
    misses: list[Sample]
    false: list[tuple[Sample, crisis.Crisis]]
    summary: dict[str, Any]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def score(samples: Sequence[Sample]) -> Score:
    """Recall and false alarms of `crisis.detect` on `samples`, overall and per category."""
    caught: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    total = Counter(s.category for s in samples)
    misses, false = [], []
    for sample in samples:
        found = crisis.detect(sample.text)
        if sample.crisis and found:
            caught[sample.category] += 1
        elif sample.crisis:
            misses.append(sample)
        elif found:
            flagged[sample.category] += 1
            false.append((sample, found))
    n_crisis = sum(total[c] for c in crisis.CATEGORIES)
    n_ordinary = sum(total[k] for k in ORDINARY_KINDS)
    recall = _rate(n_crisis - len(misses), n_crisis)
    false_rate = _rate(len(false), n_ordinary)
    summary = {
        "recall": recall, "false_alarm_rate": false_rate,
        "crisis": n_crisis, "missed": len(misses),
        "ordinary": n_ordinary, "false_alarms": len(false),
        "recall_by_category": {c: {"recall": _rate(caught[c], total[c]), "n": total[c]}
                               for c in crisis.CATEGORIES if total[c]},
        "false_alarms_by_kind": {k: {"rate": _rate(flagged[k], total[k]), "n": total[k]}
                                 for k in ORDINARY_KINDS if total[k]},
    }
    return Score(recall, false_rate, misses, false, summary)


def _rate_of(run: Callable[[str], object], texts: Sequence[str], seconds: float) -> float:
    """Messages per second through `run`, over whole passes of `texts` for about `seconds`."""
    done, start = 0, time.perf_counter()
    while True:
        for text in texts:
            run(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def _cold(text: str) -> object:
    for locale in LOCALES:
        crisis.matcher(locale).vocabulary.memo.clear()
    return crisis.detect(text)


def throughput(texts: Sequence[str], seconds: float) -> dict[str, float]:
    crisis.detect(texts[0])  # load the lexicons outside the timing
    plain = _rate_of(normalise, texts, seconds)
    warm = _rate_of(crisis.detect, texts, seconds)
    cold = _rate_of(_cold, texts, seconds / 2)
    return {"normalise_per_s": round(plain), "detect_per_s": round(warm),
            "detect_cold_per_s": round(cold), "ratio": round(warm / plain, 4),
            "ratio_cold": round(cold / plain, 4)}


def _measure(path: Path, misses: bool) -> tuple[dict[str, Any], list[Sample]]:
    samples = read_corpus(path)
    result = score(samples)
    if misses:
        for s in result.misses:
            print(f"MISS  {s.where}\t{s.category}\t{s.text}", file=sys.stderr)
        for s, found in result.false:
            print(f"FALSE {s.where}\t{found.rule}\t[{found.words}]\t{s.text}",
                  file=sys.stderr)
    summary = dict(result.summary)
    if path.stem not in LOCALES:
        summary["shipped"] = False
    return summary, samples


def _section(data: Path, misses: bool) -> tuple[dict[str, Any], list[str]]:
    found: dict[str, Any] = {locale: {"missing": True} for locale in LOCALES}
    texts = []
    for path in sorted(data.glob("*.tsv")):
        found[path.stem], samples = _measure(path, misses)
        texts.extend(s.text for s in samples)
    return found, texts


def report(data: Path, seconds: float, misses: bool,
           heldback: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["locales"], texts = _section(data, misses)
    if heldback is not None and heldback.is_dir():
        out["heldback"], _ = _section(heldback, misses)
    if texts:
        out["throughput"] = throughput(texts, seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--heldback", type=Path, default=HELDBACK)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    print(json.dumps(report(args.data, args.seconds, args.misses, args.heldback), indent=2))


if __name__ == "__main__":
    main()
