"""Consent gates the process (bot.relay.gate): after WITHDRAW CONSENT or WITHDRAW nothing from
the other party is approved, announced or delivered; waiting letters are held, facilitators see
why, and a new consent puts them back in the review queue."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.store.db import Database
from tests.console_kit import MiddayClock, console, login, post
from tests.test_console_cases import ALICE, BOB
from tests.test_console_letters import Person, letter_row, setup
from tests.transcript import Transcript, run

RELAY = Path(__file__).parent / "transcripts" / "relay"


async def _rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    async with Database(settings.database) as db:
        return await db.read(lambda c: [dict(r) for r in c.execute(sql)])


async def _played_until(settings: Settings, name: str, last: str) -> None:
    """Play a relay transcript up to (and including) the turn `last` said."""
    t = Transcript.load(RELAY / f"{name}.txt")
    turns = t.turns[: next(i for i, x in enumerate(t.turns) if x.said == last) + 1]
    await run(replace(t, turns=turns), settings)


async def test_a_letter_typed_in_after_withdraw_consent_is_never_approved_or_announced(
        settings: Settings) -> None:
    await _played_until(settings, "consent_withdrawn_holds_letters", "::wait 1d")
    found = await _rows(settings, "SELECT id, direction, status, approved_by, announced_at"
                                  " FROM letters ORDER BY id")
    assert found == [
        {"id": 1, "direction": "to_other", "status": "held", "approved_by": None,
         "announced_at": None},
        {"id": 2, "direction": "to_victim", "status": "held", "approved_by": None,
         "announced_at": None},
    ]
    assert await _rows(settings, "SELECT id FROM jobs WHERE kind = 'letter_notice'") == []
    actions = [r["action"] for r in await _rows(settings, "SELECT action FROM audit")]
    assert "letter_approved" not in actions and "letter_announced" not in actions
    held = await _rows(settings, "SELECT detail FROM audit WHERE action = 'letter_held'")
    assert len(held) == 1 and '"reason":"consent_withdrawn"' in held[0]["detail"]


async def test_a_new_consent_puts_held_letters_back_for_a_second_approval(
        settings: Settings) -> None:
    await run(Transcript.load(RELAY / "withdraw_then_resume_holds_letters.txt"), settings)
    found = await _rows(settings, "SELECT id, status, approved_by FROM letters ORDER BY id")
    # the person's own letter waits for review again; the one for them was approved and read
    assert found == [{"id": 1, "status": "pending_review", "approved_by": None},
                     {"id": 2, "status": "read", "approved_by": "bob"}]
    actions = [r["action"] for r in await _rows(
        settings, "SELECT action FROM audit WHERE action LIKE 'letter_%held'")]
    assert actions == ["letter_held", "letter_unheld", "letter_unheld"]


async def test_facilitators_see_why_on_the_letter_and_case_pages(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        person = Person(app)
        await person.say("letter", "My own words.", "1", "1", "WITHDRAW")
        await login(client, ALICE)
        typed = await post(client, f"/console/cases/{case_id}/letters",
                           {"text": "I am sorry."}, page=f"/console/cases/{case_id}")
        assert typed.status_code == 303
        assert (await letter_row(app, 1))["status"] == "held"
        assert (await letter_row(app, 2))["status"] == "held"
        await post(client, "/console/logout")
        await login(client, BOB)
        for page in ("/console/letters/1", "/console/letters/2", f"/console/cases/{case_id}"):
            html = (await client.get(page)).text
            assert 'id="relay-hold"' in html and "withdrew (WITHDRAW)" in html, page
        assert "Approve letter" not in (await client.get("/console/letters/2")).text
        refused = await post(client, "/console/letters/2/approve", {"version": "1"},
                             page="/console/letters/2")
        assert refused.status_code == 409 and "until they give consent again" in refused.text
        await person.say("RESUME")
        html = (await client.get(f"/console/cases/{case_id}")).text
        assert "came back, but has not given consent again" in html
        assert not any("sorry" in t for t in await person.sent())
