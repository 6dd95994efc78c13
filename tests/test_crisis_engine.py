"""Every crisis message of the development corpus gets the safety reply on the same turn, through
the engine, at a question and at rest, whatever language the person chose; ordinary ones do not
(false alarms within the corpus target)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bot import engine
from bot.flows.intents import RISK_REPLY
from bot.i18n import LOCALES
from bot.types import Alert, Message, State

CORPUS = Path(__file__).parent / "data" / "risk"
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
MAX_FALSE_ALARMS = 0.03


def corpus(locale: str) -> list[tuple[str, str, str]]:
    """A shipped locale without a corpus fails: its crisis words would be untested."""
    rows = []
    for line in (CORPUS / f"{locale}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, category, text = line.split("\t")
            rows.append((label, category, text))
    return rows


@cache
def places() -> dict[str, State]:
    """A person at the first question, and one at rest after first contact (English chosen)."""
    at_question = engine.step(State(), Message("hello", "sms"), NOW).state
    resting = at_question
    for text in ("1", "1", "1", "Robin", "1", "2", "2", "2", "2"):
        resting = engine.step(resting, Message(text, "sms"), NOW).state
    assert (resting.flow, resting.step) == ("menu", "idle")
    return {"question": at_question, "idle": resting}


def safety_reply(state: State, text: str) -> bool:
    out = engine.step(state, Message(text, "sms"), NOW)
    said = bool(out.replies) and out.replies[0].text == RISK_REPLY
    alerted = any(isinstance(e, Alert) and e.kind == "risk" for e in out.effects)
    assert said == alerted, text
    return said


@pytest.mark.parametrize("place", ["question", "idle"])
@pytest.mark.parametrize("locale", LOCALES)
def test_every_corpus_crisis_gets_999_on_the_same_turn(locale: str, place: str) -> None:
    state = places()[place]
    missed = [t for label, _, t in corpus(locale) if label == "crisis"
              and not safety_reply(state, t)]
    assert not missed, f"{len(missed)} crisis messages without the safety reply: {missed[:10]}"


@pytest.mark.parametrize("place", ["question", "idle"])
@pytest.mark.parametrize("locale", LOCALES)
def test_ordinary_messages_rarely_get_the_safety_reply(locale: str, place: str) -> None:
    state = places()[place]
    ordinary = [t for label, _, t in corpus(locale) if label == "ordinary"]
    flagged = [t for t in ordinary if safety_reply(state, t)]
    assert len(flagged) <= MAX_FALSE_ALARMS * len(ordinary), flagged[:10]
