"""Crisis recognition on messages it was not tuned on: each new language's held-back set
(tests/data/risk/heldback/<locale>.tsv), written before its lexicon from realistic texts and
never trained on (scripts/train_crisis.py reads only tests/data/risk/<locale>.tsv) nor tuned on.

The bar is the issue's: recall >= 0.9 and false alarms <= 0.1. English and Polish were
measured the same way on a third writer's messages, which were then trained on (README), so
they have no held-back file here; every other shipped locale must have one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.risk import HELDBACK, read_corpus, score
from bot.i18n import LOCALES

DEV = Path(__file__).resolve().parent / "data" / "risk"
RECALL, FALSE_ALARMS = 0.9, 0.1
MIN_LINES = 50  # of each kind
MERGED = frozenset({"en_GB", "pl"})  # held-back messages already folded into the corpus
HELD = sorted(HELDBACK.glob("*.tsv"))


def test_every_new_shipped_locale_has_a_held_back_set() -> None:
    for locale in (x for x in LOCALES if x not in MERGED):
        path = HELDBACK / f"{locale}.tsv"
        assert path.exists(), f"{locale} is shipped without a held-back set at {path}"
        samples = read_corpus(path)
        assert sum(s.crisis for s in samples) >= MIN_LINES, path
        assert sum(not s.crisis for s in samples) >= MIN_LINES, path


def test_no_held_back_message_is_in_a_development_corpus() -> None:
    dev = {s.text.casefold() for p in DEV.glob("*.tsv") for s in read_corpus(p)}
    seen = [s.where for p in HELD for s in read_corpus(p) if s.text.casefold() in dev]
    assert not seen, f"held-back messages also in the development corpus: {seen}"
    assert HELDBACK.parent == DEV and not list(DEV.glob("heldback*.tsv"))


@pytest.mark.parametrize("path", HELD, ids=lambda p: p.stem)
def test_held_back_recall_and_false_alarms(path: Path) -> None:
    if path.stem not in LOCALES:
        pytest.skip(f"{path.stem} is not in LOCALES yet: its lexicon is not loaded")
    result = score(read_corpus(path))
    misses = "\n".join(f"  {s.where} [{s.category}] {s.text}" for s in result.misses)
    false = "\n".join(f"  {s.where} {c.rule} [{c.words}] {s.text}" for s, c in result.false)
    assert result.recall >= RECALL, f"recall {result.recall} < {RECALL}; missed:\n{misses}"
    assert result.false_alarms <= FALSE_ALARMS, (
        f"false alarms {result.false_alarms} > {FALSE_ALARMS}; flagged:\n{false}")


def test_the_bench_reports_every_shipped_locale_and_the_held_back_sets() -> None:
    from bench.risk import report

    out = report(DEV, 0.01, False, HELDBACK)
    assert set(out["locales"]) >= set(LOCALES) and set(out["heldback"]) >= set(LOCALES)
    for locale in LOCALES:
        assert "recall" in out["locales"][locale], locale
    for path in HELD:
        assert out["heldback"][path.stem]["crisis"] >= MIN_LINES
        assert out["heldback"][path.stem].get("shipped", True) == (path.stem in LOCALES)
    assert out["throughput"]["detect_per_s"] > 0
