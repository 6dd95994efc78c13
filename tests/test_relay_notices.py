"""Closing the loop (issue 15 item 6, 8b, 8e): the person is told, in their safe time, that
their letter was passed on, that a meeting was booked or moved, and why their case closed and
what that cancels; a text that names a choice by number does so only where numbers are shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot import engine
from bot.config import Settings
from bot.flows import letters, notices
from bot.i18n import gettext, render
from bot.types import FacilitatorAction, Reply, State
from tests.console_kit import MiddayClock, console, login, post
from tests.flowkit import T0
from tests.test_console_cases import ALICE
from tests.test_console_letters import Person, setup

TRANSCRIPTS = Path(__file__).parent / "transcripts"
CATALOGS = sorted(p.name for p in (Path(__file__).parent.parent / "locales").iterdir()
                  if p.is_dir())
# "reply 1" in each catalog's words (the command verbs the translations use)
NAMES_A_NUMBER = re.compile(r"\b(reply|odpowiedz|atebwch)\s+(\d)\b", re.IGNORECASE)


@pytest.mark.parametrize("locale", CATALOGS)
def test_the_letter_prompts_name_a_number_only_where_numbers_are_shown(locale: str) -> None:
    for say in (letters.WRITE, letters.MORE, letters.NEXT):
        sms = render(say(State(channel="sms", locale=locale)), locale)
        telegram = render(say(State(channel="telegram", locale=locale)), locale)
        assert "1" in sms and not re.search(r"\d", telegram), (locale, telegram)
        assert gettext(locale, letters.FINISHED.label) in telegram  # the button's own words


def test_every_sent_text_that_names_a_number_matches_what_the_channel_shows() -> None:
    """In every golden transcript: on Telegram (buttons) no text says "reply 1"; elsewhere the
    number it names is one of the numbered choices sent with it."""
    checked = 0
    for path in sorted(TRANSCRIPTS.rglob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("{") or '"text"' not in line:
                continue
            sent = json.loads(line)
            for match in NAMES_A_NUMBER.finditer(sent["text"]):
                checked += 1
                assert sent["channel"] != "telegram", (path.name, sent["text"])
                assert 1 <= int(match.group(2)) <= len(sent["choices"]), (path.name,
                                                                            sent["text"])
    assert checked > 20


def _booked(state: State, at: str) -> tuple[State, tuple[Reply, ...]]:
    out = engine.step(state, FacilitatorAction("meeting_set", {
        "kind": "meeting", "mode": "phone", "at": at}, "alice"), T0)
    return out.state, out.replies


def test_a_moved_meeting_says_it_moved_and_waits_for_a_safe_time() -> None:
    state = State(channel="sms", case_open=True, answers={"safe_times": "any"})
    state, first = _booked(state, "2026-03-09T14:00:00Z")
    state, second = _booked(state, "2026-03-10T11:00:00Z")
    assert "is booked for" in render(first[0].text, "en_GB")
    assert "has moved to" in render(second[0].text, "en_GB")
    assert not first[0].immediate and not second[0].immediate


def _closing(state: State, outcome: str = "completed") -> list[str]:
    out = engine.step(state, FacilitatorAction("close_case", {"reason": "x",
                                                              "outcome": outcome}, "alice"), T0)
    assert all(not r.immediate for r in out.replies)  # in their safe time
    return [render(r.text, "en_GB") for r in out.replies]


def test_closing_says_why_what_it_cancels_and_where_to_get_support() -> None:
    state, _ = _booked(State(channel="sms", case_open=True), "2026-03-09T14:00:00Z")
    state = state.with_answer("checkins", {"days": [7]})
    told = _closing(state, "referred_on")
    assert told[0] == render(notices.CLOSED["referred_on"], "en_GB")
    assert any("check-in" in t for t in told)
    assert any("phone call" in t and "will not happen" in t for t in told)
    assert "0808 168 9111" in told[-1]
    plain = _closing(State(channel="sms", case_open=True))
    assert len(plain) == 2 and not any("check-in" in t or "will not" in t for t in plain)
    held = state.with_answer("meeting", {"kind": "meeting", "mode": "phone",
                                         "at": "2026-03-01T14:00:00Z", "held": "x"})
    assert not any("will not happen" in t for t in _closing(held))


@pytest.mark.parametrize("state", [
    State(channel="sms", case_open=True, answers={"safe": "no"}),
    State(channel="sms", case_open=True, status="withdrawn"),
    State(channel="sms", case_open=False),
])
def test_closing_tells_nothing_to_someone_who_cannot_be_reached(state: State) -> None:
    assert _closing(state) == []


async def test_marking_a_letter_delivered_tells_its_author(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        await setup(app, client)
        person = Person(app)
        await person.say("letter", "My own words.", "1", "1")
        await login(client, ALICE)
        assert (await post(client, "/console/letters/1/approve", {"version": "1"},
                           page="/console/letters/1")).status_code == 303
        delivered = await post(client, "/console/letters/1/delivered", {"on": "2026-03-05"},
                               page="/console/letters/1")
        assert delivered.status_code == 303
        assert (await person.sent())[-1] == (
            "Our team has passed on what you wrote. Reply PERSON if you want to talk about it.")


def test_a_letter_delivered_in_the_evening_is_told_the_next_morning() -> None:
    lines = (TRANSCRIPTS / "relay" / "told_letter_delivered.txt").read_text().splitlines()
    told = [json.loads(x) for x in lines if x.startswith("{") and "passed on what" in x]
    delivered = next(json.loads(x) for x in lines if '"letter_deliver"' in x)
    assert delivered["at"] == "2026-03-02T21:30:00Z"
    assert [t["at"] for t in told] == ["2026-03-03T08:00:00Z"]
