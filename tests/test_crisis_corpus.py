"""Crisis recognition on the development corpus (tests/data/risk): recall and false alarms per
locale. The bar here is higher than the held-back set's (recall 0.95, false alarms 0.05): a
lexicon change that costs recall on these lines will cost more on messages nobody has seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.risk import read_corpus, score

DATA = Path(__file__).resolve().parent / "data" / "risk"
RECALL, FALSE_ALARMS = 0.98, 0.03
CORPORA = sorted(DATA.glob("*.tsv"))


def test_the_corpus_covers_english_and_polish() -> None:
    assert {p.stem for p in CORPORA} >= {"en_GB", "pl"}


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.stem)
def test_recall_and_false_alarms(path: Path) -> None:
    samples = read_corpus(path)
    result = score(samples)
    assert result.summary["crisis"] >= 300 and result.summary["ordinary"] >= 300
    misses = "\n".join(f"  {s.where} [{s.category}] {s.text}" for s in result.misses)
    false = "\n".join(f"  {s.where} {c.rule} [{c.words}] {s.text}" for s, c in result.false)
    assert result.recall >= RECALL, f"recall {result.recall} < {RECALL}; missed:\n{misses}"
    assert result.false_alarms <= FALSE_ALARMS, (
        f"false alarms {result.false_alarms} > {FALSE_ALARMS}; flagged:\n{false}")


def test_a_malformed_corpus_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "xx.tsv"
    path.write_text("# comment\ncrisis\tsuicide\ti want to die\ncrisis\tnonsense\thelp\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx.tsv:3: expected label<TAB>category<TAB>text"):
        read_corpus(path)
