"""Young people: recognised wherever they say so, flagged for a senior facilitator, never asked
about what happened."""

from __future__ import annotations

import pytest

from bot.flows import young
from bot.types import Alert, UpdateCase
from tests.flowkit import Chat


@pytest.mark.parametrize(("text", "locale", "age"), [
    ("im 14", "en_GB", 14), ("I'm 15 years old", "en_GB", 15), ("i am 13 and scared", "en_GB", 13),
    ("my mum said I could text", "en_GB", None), ("Im 16yo", "en_GB", 16),
    ("mam 14 lat", "pl", 14), ("mama pozwoliła mi napisać", "pl", None),
])
def test_under_18_is_recognised(text: str, locale: str, age: int | None) -> None:
    assert young.under_18(text, locale) == (True, age)


@pytest.mark.parametrize("text", ["I am 15 minutes away", "I am 18", "im 25", "hello",
                                  "i am 5 foot 2", "mam 30 lat"])
def test_other_numbers_are_not_an_age(text: str) -> None:
    assert young.under_18(text, "pl" if "lat" in text else "en_GB")[0] is False


def test_a_young_person_is_flagged_and_never_asked_about_harm() -> None:
    chat = Chat()
    chat.send("hello", "1", "im 13")
    assert Alert("young_person") in chat.effects
    chat.send("2", "1", "1", "Mia", "1", "1")  # just me; then the rest of first contact
    flags = [f for e in chat.effects if isinstance(e, UpdateCase)
             for f in e.fields.get("flags", [])]
    assert {"young_person", "senior"} <= set(flags)
    assert chat.state.answers["age"] == 13 and chat.state.answers["trusted_adult"] == "no"
    assert "harm" not in chat.state.answers and chat.state.flow != "triage"
    assert not any("harm" in t for t in chat.texts())


def test_said_twice_raises_one_alert() -> None:
    chat = Chat()
    chat.send("hello", "im 15", "1", "I'm 15 years old")
    assert [e for e in chat.effects if e == Alert("young_person")] == [Alert("young_person")]
