"""The secret word: offered at first contact, stored as a salted hash, and the gate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.flows import FLOWS, passphrase
from bot.flows.base import Answer, Flow, Go, Step
from bot.privacy import sealed
from bot.types import Alert, Audit, FacilitatorAction, Msg, State
from tests.flowkit import OPEN_CASE, Chat

WORD = "Blue heron 42"
SHOWN = "The private thing."


def _ask(state: State, answer: Answer, now: datetime) -> Go:
    return passphrase.require(state, "private.shown", now)


@pytest.fixture
def private() -> Iterator[None]:
    """A step that shows something private, written the way the letters READ step will be."""
    flow = Flow("private", (
        Step("ask", say=Msg("Read it now?"), choices=(), free_text=True, then=_ask),
        Step("shown", say=Msg(SHOWN), wait=False, then="menu.idle"),
    ))
    FLOWS["private"] = flow
    try:
        yield
    finally:
        del FLOWS["private"]


def with_word(word: str = WORD, later: timedelta = timedelta(0)) -> Chat:
    chat = Chat()
    chat.now += later
    chat.send(*OPEN_CASE)
    assert (chat.state.flow, chat.state.step) == ("passphrase", "offer")
    assert any("secret word" in t for t in chat.texts())
    chat.send("1", word, word.upper() + ".")
    assert any("secret word is set" in t for t in chat.texts())
    assert any("how it works" in t for t in chat.texts())  # first contact carries on
    return chat


def reach_private(chat: Chat) -> None:
    """Jump to the private step (the letters flow gets there from its own notice)."""
    from dataclasses import replace

    chat.state = replace(chat.state, flow="private", step="ask")
    chat.send("read it")


def test_the_word_is_stored_only_as_a_salted_slow_hash() -> None:
    chat = with_word()
    stored = str(chat.state.answers[passphrase.HASH])
    algo, iterations, _salt, digest = stored.split("$")
    assert algo == "pbkdf2_sha256" and int(iterations) >= 100_000 and len(digest) == 64
    assert "heron" not in repr(chat.state).lower()
    other = with_word(later=timedelta(microseconds=1))  # anyone else, any other moment
    assert other.state.answers[passphrase.HASH] != stored
    assert passphrase.matches(stored, "  BLUE HERON, 42!  ")  # case, spacing, punctuation
    assert not passphrase.matches(stored, "blue heron 43")
    assert Audit("passphrase_set") in chat.effects


def test_two_different_typings_set_nothing_and_short_or_command_words_are_refused() -> None:
    chat = Chat()
    chat.send(*OPEN_CASE, "1", "abc")
    assert any("at least 4" in t for t in chat.texts()) and chat.state.step == "new"
    chat.send("menu")
    assert chat.state.flow == "menu"  # a command is a command, never a secret word
    chat.send("2", "first word", "second word")
    assert any("did not match" in t for t in chat.texts()) and chat.state.step == "new"
    assert not passphrase.is_set(chat.state)
    chat.send("1")  # not now
    assert not passphrase.is_set(chat.state) and chat.state.step == "offer_info"


def test_no_thanks_carries_on_and_the_gate_is_open(private: None) -> None:
    chat = Chat()
    chat.send(*OPEN_CASE, "2")
    assert chat.state.step == "offer_info" and not passphrase.is_set(chat.state)
    reach_private(chat)
    assert SHOWN in chat.texts()


def test_the_gate_shows_only_after_the_right_word(private: None) -> None:
    chat = with_word()
    reach_private(chat)
    assert len(chat.texts()) == 1 and "Please type your secret word" in chat.texts()[0]
    assert SHOWN not in " ".join(chat.texts())
    chat.send("blue HERON 42")
    assert SHOWN in chat.texts() and Audit("passphrase_ok") in chat.last.effects  # type: ignore[union-attr]


def test_a_typo_gets_one_more_try_then_one_generic_reply_and_three_lock(
    private: None
) -> None:
    chat = with_word()
    reach_private(chat)
    chat.send("wrong guess 1")  # a typo: one more try, still at the check
    assert chat.texts() == ["That did not match. You can try once more.",
                            "Please type your secret word."]
    assert (chat.state.flow, chat.state.step) == ("passphrase", "check")
    assert not [e for e in chat.last.effects if isinstance(e, Alert)]  # type: ignore[union-attr]
    chat.send("wrong guess 2")  # the second wrong word at one check: the generic reply
    generic = chat.texts()
    assert generic == ["Sorry, I cannot show that now. Reply MENU for options."]
    assert chat.state.step == "idle"
    reach_private(chat)
    chat.send("wrong guess 3")  # three wrong in a row: the team is told, it locks
    assert chat.texts() == generic and SHOWN not in " ".join(chat.texts())
    alerted = [e for e in chat.last.effects if isinstance(e, Alert)]  # type: ignore[union-attr]
    assert alerted == [Alert("passphrase_failed", {"failures": 3})]
    reach_private(chat)  # locked: not even asked, the same generic reply
    assert chat.texts() == generic and chat.state.step == "idle"
    chat.now += passphrase.LOCK_FOR + timedelta(minutes=1)
    reach_private(chat)
    chat.send("wrong guess 4")
    chat.send(WORD)  # right on the second try
    assert SHOWN in chat.texts()


def test_forgot_tells_the_team_and_a_facilitator_can_reset(private: None) -> None:
    from bot import engine

    chat = with_word()
    reach_private(chat)
    chat.send("1")
    assert Alert("passphrase_forgotten") in chat.last.effects  # type: ignore[union-attr]
    out = engine.step(chat.state, FacilitatorAction("passphrase_reset", {}, "sue@x"), chat.now)
    chat.state = out.state
    assert not passphrase.is_set(chat.state)
    assert Audit("passphrase_reset", {"by": "sue@x"}) in out.effects
    reach_private(chat)
    assert SHOWN in chat.texts()


def test_the_menu_sets_changes_and_removes_the_word_behind_the_gate() -> None:
    chat = Chat()
    chat.send(*OPEN_CASE, "2", "2")  # no secret word, no information
    chat.send("menu", "secret word", "Quiet river", "quiet river")
    assert passphrase.is_set(chat.state)
    chat.send("menu", "7")
    assert chat.state.step == "check"
    chat.send("not the word", "still not the word")  # one more try, then out
    assert chat.state.step == "idle" and passphrase.is_set(chat.state)
    chat.send("menu", "7", "quiet river")
    assert chat.state.step == "manage"
    chat.send("remove it")
    assert not passphrase.is_set(chat.state) and chat.state.step == "idle"


def test_a_detour_from_a_question_comes_back_to_it() -> None:
    chat = Chat()
    chat.send("hello", "1", "menu", "secret word", "Quiet river", "quiet river")
    assert passphrase.is_set(chat.state)
    assert (chat.state.flow, chat.state.step) == ("first_contact", "when")


async def test_the_message_log_never_keeps_the_word_but_keeps_risk_words(service: object
                                                                         ) -> None:
    from bot.runtime import Inbound
    from bot.service import Service

    assert isinstance(service, Service)
    said = [*OPEN_CASE, "1", WORD, WORD, "menu", "7", "I want to die", "wrong word"]
    for n, text in enumerate(said):
        await service.runtime.handle(Inbound("sms", "+447700900666", f"SM{n}", text))
    logged = await service.db.read(lambda c: [
        sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r) for r in c.execute(
            "SELECT id, person_id, body_enc FROM messages WHERE direction = 'in' ORDER BY id")])
    assert len(logged) == len(said)
    assert WORD not in logged and "wrong word" not in logged, logged
    assert logged.count(passphrase.NOT_KEPT) == 3
    assert "I want to die" in logged  # a risk message at the question is seen by the team


async def test_the_word_is_not_logged_when_they_paused_while_asked(service: object) -> None:
    from bot.runtime import Inbound
    from bot.service import Service

    assert isinstance(service, Service)
    said = [*OPEN_CASE, "1", WORD, WORD, "menu", "7", "pause", WORD]
    for n, text in enumerate(said):
        await service.runtime.handle(Inbound("sms", "+447700900667", f"SP{n}", text))
    logged = await service.db.read(lambda c: [
        sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r) for r in c.execute(
            "SELECT id, person_id, body_enc FROM messages WHERE direction = 'in' ORDER BY id")])
    assert len(logged) == len(said) and "pause" in logged
    assert WORD not in logged, logged
