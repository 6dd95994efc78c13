"""The learned second opinion: the shipped JSON scores as scikit-learn's model does, is read
once, and is fitted from the shipped corpora by scripts/train_crisis.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.crisis.model import MODEL, model, parse

ROOT = Path(__file__).resolve().parent.parent


def trainer() -> object:
    spec = importlib.util.spec_from_file_location("train_crisis", ROOT / "scripts"
                                                  / "train_crisis.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_model_loads_and_scores_between_0_and_1() -> None:
    learned = model()
    assert learned is not None and MODEL.exists()
    for text in ("i have taken all my pills", "what time is the meeting", "", "🙂" * 50):
        assert 0.0 <= learned.probability(text) <= 1.0
    assert learned.probability("i have taken all my pills and cant breathe") > learned.sure
    assert learned.probability("what time is the meeting on tuesday") < learned.plausible


def test_pure_python_scoring_matches_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from bot.crisis.model import features

    tr = trainer()
    rows = [("crisis", "suicide", "i want to end it tonight"), ("crisis", "weapon",
            "he has a knife at the door"), ("ordinary", "ordinary", "what time is the meeting"),
            ("ordinary", "ordinary", "thank you for the letter"),
            ("crisis", "help", "please help me now"), ("ordinary", "alarming_words",
            "this queue is killing me lol")]
    ours = parse(tr.train(rows))  # type: ignore[attr-defined]
    vec = TfidfVectorizer(analyzer=features, sublinear_tf=True)
    x = vec.fit_transform([t for _, _, t in rows])
    theirs = LogisticRegression(C=30.0, max_iter=5000, class_weight="balanced").fit(
        x, [r[0] == "crisis" for r in rows])
    for text in ("he is at the door with a knife", "the meeting is on tuesday", "help"):
        expected = theirs.predict_proba(vec.transform([text]))[0][1]
        assert ours.probability(text) == pytest.approx(expected, abs=2e-3)
