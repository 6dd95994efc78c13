"""An open court case (issue 15, 8f): asked roughly when it should end, the team is reminded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot import engine
from bot.flows import TIMERS
from bot.scheduler.kinds import align, kind_of
from bot.types import Alert, Reply, Schedule, Timer
from tests.flowkit import Chat

# first contact to the court question, the optional questions taken, a court case still open
TO_COURT = ["hello", "1", "1", "1", "Alex", "1", "1", "1", "1", "1", "1"]


@pytest.mark.parametrize(("answer", "expected", "days"), [
    ("1", "month", 30), ("2", "months_3", 90), ("3", "months_6", 180), ("longer", "longer", 180),
    ("dunno", "dont_know", 180),
])
def test_the_answer_schedules_a_team_reminder(answer: str, expected: str, days: int) -> None:
    chat = Chat()
    chat.send(*TO_COURT)
    assert chat.state.step == "court_end"
    assert "Roughly when" in chat.texts()[0]
    chat.send(answer)
    jobs = chat.kinds(Schedule)
    assert [(j.kind, j.key, dict(j.data)) for j in jobs] == [
        ("court_check", "court_check", {"expected": expected})]
    assert jobs[0].due == chat.now + timedelta(days=days)
    assert chat.state.step == "harm" and chat.state.answers["court_end"] == expected
    # a team alert, not a message to the person: safe times do not move it
    assert not kind_of("court_check").to_person
    assert align("court_check", chat.state, jobs[0].due, chat.now, {}) == jobs[0].due


def test_no_court_case_asks_nothing_more_and_schedules_nothing() -> None:
    chat = Chat()
    chat.send(*TO_COURT[:-1], "2")
    assert chat.state.step == "harm"
    assert not any(isinstance(e, Schedule) and e.kind == "court_check" for e in chat.effects)


def test_the_reminder_alerts_the_team_and_says_nothing_to_the_person() -> None:
    chat = Chat()
    chat.send(*TO_COURT, "2", "7", "2", "2")
    assert chat.state.case_open
    timer = Timer("court_check", {"expected": "months_3"})
    out = engine.step(chat.state, timer, chat.now + timedelta(days=90))
    assert out.replies == ()
    assert Alert("court_check", {"expected": "months_3"}) in out.effects
    closed = replace(chat.state, case_open=False)
    assert engine.step(closed, timer, chat.now).effects == ()
    assert "court_check" in TIMERS
    assert not [r for r in out.replies if isinstance(r, Reply)]
