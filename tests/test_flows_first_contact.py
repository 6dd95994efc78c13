"""First contact and its endings, through the pure engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.flows.case import REPLY_WITHIN
from bot.types import Alert, OpenCase, Schedule, UpdateCase
from tests.flowkit import TO_END, Chat


def test_answers_use_the_agreed_values_and_the_case_opens_with_the_clock() -> None:
    chat = Chat()
    chat.send("hello")
    start = chat.now
    assert chat.kinds(OpenCase) == [OpenCase("new_contact", start + REPLY_WITHIN, ("unfinished",))]
    assert Alert("new_contact") in chat.last.effects  # type: ignore[union-attr]
    jobs = {(s.kind, s.key, s.due - start) for s in chat.kinds(Schedule)}  # type: ignore[attr-defined]
    assert jobs == {("reply_reminder", "reply_clock", timedelta(hours=24)),
                    ("reply_overdue", "reply_overdue", timedelta(hours=48))}
    chat.send(*TO_END[1:])
    a = chat.state.answers
    assert a["safe_times"] == "mornings" and a["voicemail"] == "no" and a["name"] == "Sam"
    assert a["first_conversation"] == "in_person" and a["place"] == "the library"
    assert a["discreet"] is True and a["area"] == "mine" and a["harm"] == "violence"
    assert not chat.kinds(OpenCase) and not chat.kinds(Schedule)  # the clock is not restarted
    update = chat.kinds(UpdateCase)[0]
    assert update.fields["flags"] == [] and update.fields["unflag"] == ["unfinished"]  # type: ignore[attr-defined]
    assert any("within 48 hours" in t for t in chat.texts())
    assert chat.state.case_open


def test_the_first_message_says_it_is_automated_and_promises_48_hours() -> None:
    chat = Chat()
    chat.send("hi")
    first = chat.texts()[0]
    assert "automated assistant" in first and "48 hours" in first and "6 short questions" in first


@pytest.mark.parametrize(
    ("harm", "flag"), [("3", "domestic"), ("4", "sexual"), ("5", "child_past")]
)
def test_sensitive_harm_is_flagged_senior_and_rj_is_never_offered(harm: str, flag: str) -> None:
    chat = Chat()
    chat.send(*TO_END[:-1], harm)
    assert chat.state.answers["harm"] == flag
    assert "senior" in chat.kinds(UpdateCase)[0].fields["flags"]  # type: ignore[attr-defined]
    said = chat.texts()
    assert (chat.state.flow, chat.state.step) == ("passphrase", "offer")  # offered to all
    chat.send("2")
    assert chat.state.step == "idle"
    assert not any("how it works" in t for t in [*said, *chat.texts()])


@pytest.mark.parametrize(
    ("answers", "flag", "words"),
    [
        (["hello", "1", "1", "1", "A", "1", "1", "1", "1", "2", "2", "2"], "youth_justice",
         "under 18"),
        (["hello", "1", "1", "1", "A", "1", "1", "1", "1", "1", "1", "2", "7"], "on_hold",
         "on hold"),
        (["hello", "1", "1", "1", "A", "1", "4"], "out_of_area", "find a service near you"),
        (["hello", "3"], "no_messages", "0800 783 1583"),
    ],
)
def test_eligibility_is_explained_and_recorded_never_refused(
    answers: list[str], flag: str, words: str
) -> None:
    chat = Chat()
    chat.send(*answers)
    assert flag in chat.kinds(UpdateCase)[0].fields["flags"]  # type: ignore[attr-defined]
    assert any(words in t for t in chat.texts())
    assert not any("not eligible" in t.lower() or "cannot help you" in t for t in chat.texts())


def test_plain_words_use_the_name_and_name_the_area() -> None:
    chat = Chat()
    chat.send("hello", "2", "1", "1", "Sam", "1")
    assert "Kent or Medway" in chat.texts()[0]
    chat.send("1", "2")
    assert chat.texts()[0].startswith("Thank you, Sam.")


def test_discreet_texts_never_carry_the_name() -> None:
    chat = Chat()
    chat.send(*TO_END)
    assert not any("Sam" in t for t in chat.texts())


def test_asking_for_a_person_early_opens_the_case_once_and_later_answers_update_it() -> None:
    chat = Chat()
    chat.send("hello", "1", "talk to a person")
    update = chat.kinds(UpdateCase)[0]
    assert "asked_for_person" in update.fields["flags"]  # type: ignore[attr-defined]
    assert Alert("person") in chat.last.effects  # type: ignore[union-attr]
    assert chat.state.step == "when"
    chat.send("1", "1", "Sam", "1", "1", "1", "1", "1", "1", "2", "4")
    assert not chat.kinds(OpenCase)
    update = chat.kinds(UpdateCase)[0]
    assert "senior" in update.fields["flags"]  # type: ignore[attr-defined]


def test_a_reply_after_long_silence_is_met_as_a_return_not_an_error() -> None:
    chat = Chat()
    chat.send("hello", "1")
    chat.now += timedelta(days=3)
    chat.send("sorry, busy")
    assert chat.texts()[0].startswith("Welcome back")
    assert chat.state.step == "when"
    chat.send("what?")
    assert chat.texts()[0].startswith("Sorry, I did not understand")


def test_nothing_chases_a_silent_person() -> None:
    chat = Chat()
    chat.send("hello", "1")
    assert not chat.kinds(Schedule)
