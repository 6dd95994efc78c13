"""Global intents at every step where the bot waits for an answer, in English and Polish."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot import engine
from bot.flows import FLOWS
from bot.types import Alert, CancelJobs, Message, ProviderSignal, SetOptOut, State, Timer
from tests.flowkit import T0, Chat

WAITING = [(f.name, s.name) for f in FLOWS.values() for s in f.steps if s.wait and s.name != "idle"]
LOCALES = ("en_GB", "pl")
WORDS = {
    "en_GB": {"risk": "I want to end my life", "withdraw": "WITHDRAW", "pause": "pause",
              "resume": "resume", "person": "talk to a person", "help": "helpline"},
    "pl": {"risk": "chcę umrzeć", "withdraw": "REZYGNUJĘ", "pause": "PAUZA", "resume": "WZNÓW",
           "person": "osoba", "help": "infolinia"},
}


def at(flow: str, step: str, locale: str) -> Chat:
    return Chat(state=State(flow=flow, step=step, locale=locale))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("flow", "step"), WAITING)
def test_risk_gets_the_safety_reply_and_an_alert_and_the_step_stays(
    flow: str, step: str, locale: str
) -> None:
    chat = at(flow, step, locale)
    chat.send(WORDS[locale]["risk"])
    assert "999" in chat.texts()[0] and "116 123" in chat.texts()[0]
    assert any(isinstance(e, Alert) and e.kind == "risk" and e.data["category"]
               for e in chat.last.effects)  # type: ignore[union-attr]
    assert (chat.state.flow, chat.state.step) == (flow, step)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("flow", "step"), WAITING)
def test_withdraw_confirms_once_cancels_everything_then_silence(
    flow: str, step: str, locale: str
) -> None:
    chat = at(flow, step, locale)
    chat.send(WORDS[locale]["withdraw"])
    assert len(chat.last.replies) == 1  # type: ignore[union-attr]
    assert CancelJobs() in chat.last.effects and Alert("withdrawn") in chat.last.effects  # type: ignore[union-attr]
    for text in ("hello", "1", "menu", "helpline", WORDS[locale]["withdraw"]):
        assert not chat.send(text).replies
    later = engine.step(chat.state, Timer("reply_reminder"), chat.now + timedelta(days=30))
    assert not later.replies and not later.effects
    chat.send(WORDS[locale]["resume"])
    assert chat.state.status == "active" and Alert("returned") in chat.last.effects  # type: ignore[union-attr]
    # a letter notice or a suggested wording is never offered again after a withdrawal
    offered = flow == "letters_read" or step in ("edit_notice", "edit_review")
    assert (chat.state.flow, chat.state.step) == (("menu", "idle") if offered else (flow, step))


@pytest.mark.parametrize(("flow", "step"), WAITING)
def test_pause_holds_until_resume_which_asks_again(flow: str, step: str) -> None:
    chat = at(flow, step, "en_GB")
    chat.send("pause")
    assert chat.state.status == "paused"
    chat.send("1")
    assert chat.texts() == ["Messages are still paused. Reply RESUME when you want to carry on."]
    assert (chat.state.flow, chat.state.step) == (flow, step)
    chat.send("resume")
    assert chat.state.status == "active" and (chat.state.flow, chat.state.step) == (flow, step)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("flow", "step"), WAITING)
def test_help_and_person_answer_without_losing_the_place(flow: str, step: str, locale: str) -> None:
    chat = at(flow, step, locale)
    chat.send(WORDS[locale]["help"])
    if "help" in FLOWS[flow].step(step).handles:
        # a check-in takes help words as its own answer (a plain "help" is a cry for help)
        chat = at(flow, step, locale)
    else:
        assert "0800 783 1583" in chat.texts()[0] and "999" in chat.texts()[0]
    chat.send(WORDS[locale]["person"])
    assert Alert("person") in chat.last.effects  # type: ignore[union-attr]
    assert (chat.state.flow, chat.state.step) == (flow, step)


@pytest.mark.parametrize(("flow", "step"), [w for w in WAITING if w[0] not in ("menu", "settings")])
def test_menu_then_carry_on_returns_to_the_same_step(flow: str, step: str) -> None:
    chat = at(flow, step, "en_GB")
    chat.send("menu", "2")
    assert (chat.state.flow, chat.state.step) == (flow, step)


def test_naming_a_language_switches_and_is_remembered() -> None:
    chat = Chat()
    chat.send("hello", "POLSKI")
    assert chat.state.locale == "pl" and chat.texts()[0] == "Dobrze, będę pisać po polsku."
    chat.send("1")
    assert chat.texts()[0].startswith("Pytanie 2 z 6")
    chat.send("język", "1")
    assert chat.state.locale == "en_GB" and chat.texts()[-1].startswith("Question 2 of 6")


def test_a_plain_yes_on_sms_is_not_a_return_from_opt_out() -> None:
    """Twilio turns a whole-message YES into an opt-in: ask the question again, no alert."""
    state = State(flow="first_contact", step="voicemail")
    out = engine.step(state, ProviderSignal("opt_in", "sms"), T0)
    assert out.effects == (SetOptOut(False),) and out.replies
    back = engine.step(replace(state, status="withdrawn"), ProviderSignal("opt_in", "sms"), T0)
    assert Alert("returned") in back.effects


def test_a_new_person_sending_start_begins_first_contact() -> None:
    out = engine.step(State(), Message("start", "sms"), T0)
    assert out.state.flow == "first_contact" and out.state.step == "safe"


@pytest.mark.parametrize("locale", LOCALES)
def test_resume_when_nothing_is_paused_is_still_answered_at_rest(locale: str) -> None:
    """Found by the fuzz test: RESUME at the resting step used to get no answer at all."""
    chat = at("menu", "idle", locale)
    chat.send(WORDS[locale]["resume"])
    assert chat.texts(), "silence after RESUME"
    assert (chat.state.flow, chat.state.step, chat.state.status) == ("menu", "idle", "active")
