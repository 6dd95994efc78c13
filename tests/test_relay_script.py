"""The meeting script (bot.relay.script_desk, bot.flows.script): versions for each side, the
person told and reading it when they choose, their change request in their own words, and the
console's form and case page; the other side's copy never carries the person's details."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import engine
from bot.config import Settings
from bot.privacy import subject
from bot.service import cipher_for
from bot.store.db import Database
from bot.types import FacilitatorAction, Message, ScriptOp, State, Timer
from tests.console_kit import MiddayClock, console, login, post, service_of
from tests.flowkit import T0
from tests.test_console_cases import ALICE, CAROL, rows
from tests.test_console_letters import Person, setup
from tests.transcript import Transcript, run

RELAY = Path(__file__).parent / "transcripts" / "relay"
WORDS = "Please do not mention my street and let me bring my sister."


async def _played(settings: Settings, name: str) -> Database:
    await run(Transcript.load(RELAY / f"{name}.txt"), settings)
    return Database(settings.database)


async def _rows(db: Database, sql: str) -> list[dict[str, Any]]:
    return await db.read(lambda c: [dict(r) for r in c.execute(sql)])


async def test_each_version_and_request_is_kept_encrypted_and_the_sides_apart(
        settings: Settings) -> None:
    async with await _played(settings, "script_read_and_change") as db:
        sides = await _rows(db, "SELECT id, side FROM scripts ORDER BY id")
        versions = await _rows(db, "SELECT script_id, number, announced_at, read_at, body_enc"
                                   " FROM script_versions ORDER BY id")
        asked = await _rows(db, "SELECT script_id, version, body_enc FROM script_requests")
        audit = await _rows(db, "SELECT action, detail FROM audit WHERE action LIKE 'script%'")
        alerts = await _rows(db, "SELECT kind, data FROM alerts WHERE kind = 'script_change'")
    assert sides == [{"id": 1, "side": "victim"}, {"id": 2, "side": "other"}]
    assert [(v["script_id"], v["number"]) for v in versions] == [(1, 1), (1, 2), (2, 1)]
    assert all(v["announced_at"] and v["read_at"] for v in versions[:2])
    assert versions[2]["announced_at"] is None and versions[2]["read_at"] is None  # not sent
    assert [(a["script_id"], a["version"]) for a in asked] == [(1, 1)]
    assert b"sister" not in asked[0]["body_enc"] and all(b"2pm" not in v["body_enc"]
                                                        for v in versions)
    assert all("sister" not in a["detail"] and "2pm" not in a["detail"] for a in audit)
    assert {a["action"] for a in audit} >= {"script_version_added", "script_shared",
                                            "script_read", "script_change_asked",
                                            "script_fine"}
    assert len(alerts) == 1 and '"version": 1' in alerts[0]["data"]


def test_the_script_text_never_sits_in_the_conversation_state() -> None:
    state = State(channel="sms", case_open=True)
    ready = engine.step(state, FacilitatorAction("script_ready", {"script": 3, "version": 2},
                                                 "alice"), T0)
    assert ready.state.answers["script"] == [3, 2]
    due = engine.step(ready.state, Timer("script_notice", {"script": 3, "version": 2}, 1), T0)
    assert due.state.flow == "script" and ScriptOp("announced", 3, 2) in due.effects
    read = engine.step(due.state, _msg("1"), T0)
    assert ScriptOp("show", 3, 2) in read.effects
    assert all(not isinstance(v, str) or len(v) < 40 for v in read.state.answers.values())


def test_a_stale_notice_for_an_older_version_says_nothing() -> None:
    state = State(channel="sms", case_open=True)
    for version in (1, 2):
        state = engine.step(state, FacilitatorAction(
            "script_ready", {"script": 3, "version": version}, "alice"), T0).state
    stale = engine.step(state, Timer("script_notice", {"script": 3, "version": 1}, 1),
                        T0 + timedelta(hours=1))
    assert stale.replies == () and stale.state.flow == state.flow


def _msg(text: str) -> Message:
    return Message(text, "sms")


async def test_console_shares_a_version_and_shows_the_request_in_their_words(
        settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        person = Person(app)
        await login(client, ALICE)
        page = f"/console/cases/{case_id}"
        shared = await post(client, f"{page}/script", {
            "side": "victim", "text": "We meet at 2pm. You speak first."}, page=page)
        assert shared.status_code == 303 and "done=script_shared" in shared.headers["location"]
        await service_of(app).runtime.fire_due()
        assert (await person.sent())[-1].startswith("Our team has written something for you")
        await person.say("1", "2", WORDS)
        assert "We meet at 2pm. You speak first." in await person.sent()
        html = (await client.get(page)).text
        assert 'id="script-victim-1"' in html and WORDS in html
        refused = await post(client, f"{page}/script", {
            "side": "other", "text": "You listen first. Sam is on 07700 900123."}, page=page)
        assert refused.status_code == 409 and "own phone number" in refused.text
        assert await rows(app, "SELECT id FROM scripts WHERE side = 'other'") == []
        kept = await post(client, f"{page}/script", {
            "side": "other", "text": "You listen first, then answer."}, page=page)
        assert kept.status_code == 303
        assert 'id="script-other-1"' in (await client.get(page)).text
        await post(client, "/console/logout")
        await login(client, CAROL)  # not assigned: may neither see nor share
        denied = await post(client, f"{page}/script", {"side": "victim", "text": "x"},
                            page="/console/")
        assert denied.status_code == 403


async def test_nothing_is_shared_once_consent_is_withdrawn(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        await Person(app).say("WITHDRAW")
        await login(client, ALICE)
        page = f"/console/cases/{case_id}"
        refused = await post(client, f"{page}/script", {"side": "victim", "text": "We meet."},
                             page=page)
        assert refused.status_code == 409 and "withdrew" in refused.text
        assert await rows(app, "SELECT id FROM script_versions") == []


async def test_their_export_has_their_copy_and_requests_never_the_other_sides(
        settings: Settings) -> None:
    cipher = cipher_for(settings)
    async with await _played(settings, "script_read_and_change") as db:
        export = await db.read(lambda c: subject.export(c, cipher, 1))
        await db.write(lambda c: subject.erase(c, 1, 0.0, "test"))
        left = await _rows(db, "SELECT length(body_enc) AS n FROM script_versions UNION ALL"
                               " SELECT length(body_enc) FROM script_requests")
    assert left and all(not r["n"] for r in left)  # erasure blanks every copy and request
    scripts = export["scripts"]
    assert [s["version"] for s in scripts["versions"]] == [1, 2]
    assert scripts["requests"][0]["text"] == WORDS
    assert "listen first" not in str(export)
