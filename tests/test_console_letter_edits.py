"""Issue 16 deliverable 6 for letters: new wording carries the newest version its editor
read, and wording typed over a newer version is refused with both shown, the typed text kept
(it used to replace the other facilitator's wording unseen, or be lost on an error page); a
letter edit posted after the session ended is kept through sign-in like a case form."""

from __future__ import annotations

import re

from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import MiddayClock, console, csrf_of, login, post, service_of
from tests.test_console_cases import ALICE, BOB, SUE, rows
from tests.test_console_edits import section
from tests.test_console_letters import Person, letter_row, setup

LETTER = "/console/letters/1"


async def _versions(app: Starlette) -> list[tuple[int, str, str]]:
    got = await rows(app, "SELECT number, author, status FROM letter_versions"
                     " WHERE letter_id = 1 ORDER BY number")
    return [(r["number"], r["author"], r["status"]) for r in got]


async def test_a_correction_over_a_newer_version_is_refused_showing_both(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id, _ = await setup(app, client)
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters",
                   {"text": "I am sorry for what I did."}, page=f"/console/cases/{case_id}")
        await post(client, "/console/logout")
        await login(client, BOB)
        page = (await client.get(LETTER)).text
        edit = page[page.index(f'action="{LETTER}/edit"'):]
        assert 'name="version" value="1"' in edit[:edit.index("</form>")]
        await post(client, "/console/logout")
        await login(client, SUE)  # Sue corrects it after Bob opened the page
        assert (await post(client, f"{LETTER}/edit", {
            "version": "1", "text": "Sue's wording: I am sorry.", "reason": "Tone."},
            page=LETTER)).status_code == 303
        await post(client, "/console/logout")
        await login(client, BOB)
        stale = await post(client, f"{LETTER}/edit", {
            "version": "1", "text": "Bob's wording: I regret it.", "reason": "Clearer."},
            page=LETTER)
        assert stale.status_code == 409
        text = stale.text.replace("&#39;", "'")
        theirs, mine = section(text, "theirs"), section(text, "mine")
        assert "Sue's wording: I am sorry." in theirs and SUE in theirs  # theirs, shown
        assert "Bob's wording: I regret it." in mine and 'value="Clearer."' in mine  # kept
        assert 'name="version" value="2"' in mine
        assert await _versions(app) == [(1, ALICE, "submitted"), (2, SUE, "submitted")]
        refused = await rows(app, "SELECT actor, detail FROM audit"
                                  " WHERE action = 'stale_save_refused'")
        assert [r["actor"] for r in refused] == [BOB] and '"letter"' in refused[0]["detail"]
        form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', mine))
        again = await client.post(f"{LETTER}/edit", data={
            **form, "text": "Bob's wording: I am sorry, I regret it.", "reason": "Both."})
        assert again.status_code == 303
        assert [v[:2] for v in await _versions(app)] == [(1, ALICE), (2, SUE), (3, BOB)]


async def test_a_second_proposal_while_the_author_decides_keeps_the_text_to_copy(
        settings: Settings) -> None:
    """A letter to the other party: Alice's proposal is with its author; Bob's, typed over
    version 1, is refused showing hers, and his text stays on the page (it cannot be sent
    until the author answers)."""
    async with console(settings, clock=MiddayClock()) as (app, client):
        await setup(app, client)
        await Person(app).say("letter", "I want you to know how it felt.", "1", "1")
        await login(client, ALICE)
        assert (await post(client, f"{LETTER}/edit", {
            "version": "1", "text": "Alice: I want you to know how it felt to me.",
            "reason": "Clearer."}, page=LETTER)).status_code == 303
        await post(client, "/console/logout")
        await login(client, BOB)
        stale = await post(client, f"{LETTER}/edit", {
            "version": "1", "text": "Bob: how it felt.", "reason": "Shorter."}, page=LETTER)
        assert stale.status_code == 409
        theirs, mine = section(stale.text, "theirs"), section(stale.text, "mine")
        assert "Alice: I want you to know how it felt to me." in theirs
        assert "Bob: how it felt." in mine and "readonly" in mine
        assert 'action="/console/letters/1/edit"' not in mine
        assert (await letter_row(app, 1))["status"] == "edit_proposed"
        assert len(await _versions(app)) == 2


async def test_new_wording_posted_after_the_session_ended_is_kept_through_sign_in(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id, _ = await setup(app, client)
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters",
                   {"text": "I am sorry for what I did."}, page=f"/console/cases/{case_id}")
        token = csrf_of((await client.get(LETTER)).text)
        await service_of(app).db.write(lambda c: c.execute(
            "UPDATE console_sessions SET seen_at = seen_at - 2 * 3600"))
        typed = "I am sorry for what I did, and for the months after."
        late = await client.post(f"{LETTER}/edit", data={
            "csrf": token, "version": "1", "text": typed, "reason": "Her words on the phone."})
        assert late.status_code == 401 and typed not in late.text
        await login(client, ALICE)
        back = await client.get("/console/")
        case = f"/console/cases/{case_id}"
        assert back.headers["location"] == f"{case}#resume"  # back on the letter's case
        resume = section((await client.get(case)).text, "resume")
        assert typed in resume and 'action="/console/letters/1/edit"' in resume
        form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', resume))
        saved = await client.post(f"{LETTER}/edit", data={
            **form, "text": typed, "reason": "Her words on the phone."})
        assert saved.status_code == 303
        assert [v[:2] for v in await _versions(app)] == [(1, ALICE), (2, ALICE)]
        assert await rows(app, "SELECT * FROM console_drafts") == []
