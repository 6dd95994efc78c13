"""Crisis recognition on the development corpus (tests/data/risk): recall and false alarms per
locale. The bar here is higher than the held-back sets' (tests/test_crisis_heldback.py): a
lexicon change that costs recall on these lines will cost more on messages nobody has seen.

English and Polish have grown through many rounds (300+ lines of each kind); a new language
starts from the issue's 150 crisis and 150 ordinary lines. A corpus for a locale not yet in
`LOCALES` is not measured: its lexicon is not loaded until the locale ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.risk import read_corpus, score
from bot.i18n import LOCALES

DATA = Path(__file__).resolve().parent / "data" / "risk"
RECALL, FALSE_ALARMS = 0.98, 0.03
MIN_LINES = {"en_GB": 300, "pl": 300}  # of each kind; any other locale: NEW_LOCALE_LINES
NEW_LOCALE_LINES = 150
CORPORA = sorted(DATA.glob("*.tsv"))


def min_lines(locale: str) -> int:
    return MIN_LINES.get(locale, NEW_LOCALE_LINES)


def test_every_shipped_locale_has_a_corpus() -> None:
    assert {p.stem for p in CORPORA} >= {"en_GB", "pl", *LOCALES}


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.stem)
def test_recall_and_false_alarms(path: Path) -> None:
    if path.stem not in LOCALES:
        pytest.skip(f"{path.stem} is not in LOCALES yet: its lexicon is not loaded")
    samples = read_corpus(path)
    result = score(samples)
    need = min_lines(path.stem)
    assert result.summary["crisis"] >= need and result.summary["ordinary"] >= need, (
        f"{path.name}: {result.summary['crisis']} crisis and {result.summary['ordinary']}"
        f" ordinary lines; a corpus needs {need} of each")
    misses = "\n".join(f"  {s.where} [{s.category}] {s.text}" for s in result.misses)
    false = "\n".join(f"  {s.where} {c.rule} [{c.words}] {s.text}" for s, c in result.false)
    assert result.recall >= RECALL, f"recall {result.recall} < {RECALL}; missed:\n{misses}"
    assert result.false_alarms <= FALSE_ALARMS, (
        f"false alarms {result.false_alarms} > {FALSE_ALARMS}; flagged:\n{false}")


def test_new_locales_need_150_of_each_and_english_and_polish_keep_300() -> None:
    assert [min_lines(x) for x in ("en_GB", "pl", "cy", "ro", "ne")] == [300, 300, 150, 150, 150]


def test_a_malformed_corpus_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "xx.tsv"
    path.write_text("# comment\ncrisis\tsuicide\ti want to die\ncrisis\tnonsense\thelp\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx.tsv:3: expected label<TAB>category<TAB>text"):
        read_corpus(path)
