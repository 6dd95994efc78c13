"""The pure engine: choices, global intents, withdraw and pause, without any I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import engine
from bot.types import (
    Alert,
    CancelJobs,
    FacilitatorAction,
    Message,
    OpenCase,
    ProviderSignal,
    SetOptOut,
    State,
    Timer,
    UpdateCase,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def say(state: State, text: str, payload: str | None = None) -> engine.Outcome:
    return engine.step(state, Message(text, "sms", payload), NOW)


def at_mode() -> State:
    """Walk first contact up to "how would you like the first conversation"."""
    state = State()
    for text in ("hello", "1", "1", "1", "Sam"):
        state = say(state, text).state
    assert (state.flow, state.step) == ("first_contact", "mode")
    return state


def test_first_message_starts_first_contact_and_asks_one_question() -> None:
    out = say(State(), "hello")
    assert (out.state.flow, out.state.step) == ("first_contact", "safe")
    assert "automated assistant" in out.replies[0].text.key
    assert len(out.replies) == 2


@pytest.mark.parametrize("text", ["2", " 2 ", "video call", "VIDEO CALL", "Vídeo Cáll!", "video"])
def test_choice_by_number_label_accents_and_keyword(text: str) -> None:
    out = say(at_mode(), text)
    assert out.state.answers["first_conversation"] == "video"


def test_choice_by_button_payload_ignores_text() -> None:
    out = say(at_mode(), "whatever the label said", payload="in_person")
    assert out.state.answers["first_conversation"] == "in_person"


def test_unknown_answer_is_explained_and_asked_again() -> None:
    state = at_mode()
    out = say(state, "banana")
    assert out.state == state
    assert out.replies[0].text.key == "Sorry, I did not understand that."
    assert out.replies[1].choices


def test_the_first_message_opens_the_case_and_finishing_updates_it() -> None:
    first = say(State(), "hello")
    opened = next(e for e in first.effects if isinstance(e, OpenCase))
    assert opened.reply_due == NOW + timedelta(hours=48) and "unfinished" in opened.flags
    assert Alert("new_contact") in first.effects and first.state.case_open
    state = say(say(at_mode(), "1").state, "2").state  # phone; the other person lives there
    out = say(state, "2")  # no optional questions
    assert not any(isinstance(e, OpenCase) for e in out.effects)
    update = next(e for e in out.effects if isinstance(e, UpdateCase))
    assert update.fields["unflag"] == ["unfinished"]
    assert "unfinished" not in update.fields["flags"]


@pytest.mark.parametrize("text", ["I want to kill myself", "i am in danger", "SUICIDE"])
def test_risk_words_anywhere_get_the_safety_reply_and_an_alert(text: str) -> None:
    state = at_mode()
    out = say(state, text)
    rendered = out.replies[0].text.key
    assert "999" in rendered and "116 123" in rendered and "55" in rendered
    assert any(isinstance(e, Alert) and e.kind == "risk" and e.data["category"]
               for e in out.effects)
    assert (out.state.flow, out.state.step) == (state.flow, state.step)


def test_withdraw_confirms_once_cancels_everything_then_silence() -> None:
    out = say(at_mode(), "WITHDRAW")
    assert out.state.status == "withdrawn"
    assert len(out.replies) == 1
    assert CancelJobs() in out.effects and Alert("withdrawn") in out.effects
    assert say(out.state, "hello?").replies == ()
    assert engine.step(out.state, Timer("reply_reminder"), NOW).effects == ()


def test_risk_is_answered_even_after_withdraw() -> None:
    withdrawn = say(at_mode(), "withdraw").state
    assert say(withdrawn, "I want to end my life").replies


def test_resume_after_withdraw_asks_the_last_question_again() -> None:
    withdrawn = say(at_mode(), "withdraw").state
    out = say(withdrawn, "resume")
    assert out.state.status == "active"
    assert out.replies[-1].choices  # the question they were at


def test_pause_holds_and_answers_politely_until_resume() -> None:
    paused = say(at_mode(), "pause").state
    assert paused.status == "paused"
    assert say(paused, "2").state.answers.get("first_conversation") is None
    assert say(paused, "resume").state.status == "active"


def test_provider_opt_out_records_and_sends_nothing() -> None:
    out = engine.step(at_mode(), ProviderSignal("opt_out", "sms"), NOW)
    assert out.replies == ()
    assert SetOptOut(True) in out.effects
    assert out.state.status == "withdrawn"


def test_facilitator_reply_stops_the_clock() -> None:
    out = engine.step(replace(at_mode(), case_open=True), FacilitatorAction("replied"), NOW)
    assert CancelJobs(("reply_reminder", "reply_overdue")) in out.effects


def test_engine_is_deterministic() -> None:
    a = say(at_mode(), "3")
    b = say(at_mode(), "3")
    assert a == b
