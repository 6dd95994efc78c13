"""Letters through the console: the review queue, safety checks, edits the author answers in
the bot, four eyes for typed-in letters, printing and delivery, access and audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from bot.privacy import sealed
from bot.runtime import Inbound
from bot.store import letters
from tests.console_kit import (
    MiddayClock,
    add_user,
    console,
    login,
    new_contact,
    post,
    service_of,
)
from tests.test_console_cases import ALICE, BOB, CAROL, SUE, assign, rows, staff

ADDRESS = "+447700900123"


class Person:
    """The person harmed, texting the bot through the runtime."""

    def __init__(self, app: Starlette) -> None:
        self.app, self.n = app, 0

    async def say(self, *texts: str) -> None:
        for text in texts:
            self.n += 1
            await service_of(self.app).runtime.handle(
                Inbound("sms", ADDRESS, f"letter-{self.n}", text))

    async def sent(self) -> list[str]:
        """Everything the bot has sent them so far, decrypted, oldest first."""
        svc = service_of(self.app)
        return await svc.db.read(lambda c: [
            sealed.open_in(svc.cipher, r["body_enc"], "messages", "body_enc", r)
            for r in c.execute(
                "SELECT id, person_id, body_enc FROM messages"
                " WHERE direction = 'out' ORDER BY id")])


async def setup(app: Starlette, client: httpx.AsyncClient) -> tuple[int, dict[str, int]]:
    ids = await staff(app)
    case_id = await new_contact(app, ADDRESS, name="Sam")
    await assign(client, case_id, ids["alice"], ids["bob"])
    return case_id, ids


async def letter_row(app: Starlette, letter_id: int) -> dict[str, Any]:
    return (await rows(app, "SELECT * FROM letters WHERE id = ?", letter_id))[0]


async def test_victim_letter_blocked_with_own_phone_until_an_accepted_edit(
        settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        person = Person(app)
        await person.say("letter", "I want you to know how it felt.",
                         "You can ring me on 07700 900123 if you want.", "1", "1")
        await login(client, ALICE)
        dash = (await client.get("/console/")).text
        assert 'href="/console/letters/1">Letter 1</a>' in dash
        page = (await client.get("/console/letters/1")).text
        assert "the person&#39;s own phone number" in page and "cannot be passed on" in page
        refused = await post(client, "/console/letters/1/approve",
                             {"confirm": "yes", "version": "1"},
                             page="/console/letters/1")
        assert refused.status_code == 409 and "phone number" in refused.text
        assert (await letter_row(app, 1))["status"] == "pending_review"

        edited = await post(client, "/console/letters/1/edit", {
            "version": "1", "text": "I want you to know how it felt.",
            "reason": "We never pass on phone numbers."}, page="/console/letters/1")
        assert edited.status_code == 303
        assert (await letter_row(app, 1))["status"] == "edit_proposed"
        # the author hears of it in their safe time, sees the new wording, and accepts it
        await service_of(app).runtime.fire_due()
        await person.say("1")
        await person.say("1")
        sent = await person.sent()
        assert "I want you to know how it felt." in sent
        assert "Why our team suggests this: We never pass on phone numbers." in sent
        assert (await letter_row(app, 1))["status"] == "pending_review"

        approved = await post(client, "/console/letters/1/approve", {"version": "2"},
                              page="/console/letters/1")
        assert approved.status_code == 303
        row = await letter_row(app, 1)
        assert row["status"] == "approved" and row["approved_version"] == 2
        printed = (await client.get("/console/letters/1/print")).text
        assert "I want you to know how it felt." in printed
        assert "07700" not in printed and "Sam" not in printed and "Case" not in printed
        done = await post(client, "/console/letters/1/delivered", {"on": "2026-03-05"},
                          page="/console/letters/1")
        assert done.status_code == 303
        row = await letter_row(app, 1)
        assert row["status"] == "delivered" and row["delivered_on"] == "2026-03-05"
        actions = [r["action"] for r in await rows(
            app, "SELECT action FROM audit WHERE action LIKE 'letter%' ORDER BY id")]
        for expected in ("letter_started", "letter_submitted", "letter_approval_blocked",
                         "letter_edit_proposed", "letter_edit_shown", "letter_edit_accepted",
                         "letter_approved", "letter_printed", "letter_delivered"):
            assert expected in actions
        assert case_id


async def test_four_eyes_then_announced_and_read_only_on_request(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        person = Person(app)
        await login(client, ALICE)
        saved = await post(client, f"/console/cases/{case_id}/letters",
                           {"text": "I am sorry for what I did."},
                           page=f"/console/cases/{case_id}")
        assert saved.status_code == 303 and saved.headers["location"].startswith(
            "/console/letters/1")
        own = await post(client, "/console/letters/1/approve", {"version": "1"},
                         page="/console/letters/1")
        assert own.status_code == 409 and "second facilitator" in own.text
        await post(client, "/console/logout")
        await login(client, BOB)
        page = (await client.get("/console/letters/1")).text
        assert 'name="version" value="1"' in page  # the wording Bob sees is version 1
        await post(client, "/console/logout")
        await login(client, ALICE)
        fixed = await post(client, "/console/letters/1/edit", {
            "version": "1", "text": "I am sorry for what I did to you.", "reason": "Typo."},
            page="/console/letters/1")
        assert fixed.status_code == 303
        await post(client, "/console/logout")
        await login(client, BOB)  # Bob approves from the page he opened before the change
        stale = await post(client, "/console/letters/1/approve", {"version": "1"},
                           page="/console/letters/1")
        assert stale.status_code == 409 and "changed" in stale.text
        assert (await letter_row(app, 1))["status"] == "pending_review"
        assert (await post(client, "/console/letters/1/approve", {"version": "2"},
                           page="/console/letters/1")).status_code == 303
        assert (await letter_row(app, 1))["approved_version"] == 2
        assert not any("sorry" in t for t in await person.sent())
        await service_of(app).runtime.fire_due()
        notice = (await person.sent())[-1]
        assert notice.startswith("There is a message waiting for you.")
        assert not any("sorry" in t for t in await person.sent())
        await person.say("1")
        assert "I am sorry for what I did to you." in await person.sent()
        row = await letter_row(app, 1)
        assert row["status"] == "read" and row["read_at"] is not None


async def test_supervisor_may_approve_but_not_what_they_typed(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        await login(client, SUE)
        await post(client, f"/console/cases/{case_id}/letters", {"text": "Hello."},
                   page=f"/console/cases/{case_id}")
        own = await post(client, "/console/letters/1/approve", {"version": "1"},
                         page="/console/letters/1")
        assert own.status_code == 409
        await post(client, "/console/logout")
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters", {"text": "Second."},
                   page=f"/console/cases/{case_id}")
        await post(client, "/console/logout")
        await login(client, SUE)
        assert (await post(client, "/console/letters/2/approve", {"version": "1"},
                           page="/console/letters/2")).status_code == 303


async def test_unassigned_facilitator_cannot_see_a_letter(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters", {"text": "Private words."},
                   page=f"/console/cases/{case_id}")
        await post(client, "/console/logout")
        await login(client, CAROL)
        page = await client.get("/console/letters/1")
        assert page.status_code == 403 and "Private words." not in page.text
        assert (await client.get("/console/letters/1/print")).status_code == 403
        assert "Letter 1<" not in (await client.get("/console/")).text


async def test_letter_text_is_never_in_the_database_file(settings: Settings,
                                                         tmp_path: Path) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        await Person(app).say("letter", "Unmistakable-letter-words here.", "1", "1")
        await login(client, ALICE)
        await post(client, "/console/letters/1/edit", {
            "version": "1", "text": "Unmistakable-edit-words.", "reason": "Reason-words-secret."},
            page="/console/letters/1")
        svc = service_of(app)
        versions = await svc.db.read(lambda c: letters.versions(c, svc.cipher, 1))
        assert [v.status for v in versions] == ["submitted", "proposed"]
        await svc.db.checkpoint()
        assert case_id
    raw = b"".join(p.read_bytes() for p in Path(settings.database).parent.glob("*")
                   if p.is_file())
    for secret in (b"Unmistakable", b"Reason-words"):
        assert secret not in raw


async def test_dashboard_queue_lists_letters_waiting(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        await add_user(app, "x@example.org", "X")
        case_id, _ = await setup(app, client)
        await Person(app).say("letter", "Words.", "1", "1")
        await login(client, BOB)
        dash = (await client.get("/console/")).text
        assert "Letters awaiting review (1)" in dash and "Words." not in dash
        assert case_id


async def test_print_and_delivery_only_after_approval_and_never_after_withdrawal(
        settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        await setup(app, client)
        person = Person(app)
        await person.say("letter", "My own words.", "1", "1")
        await login(client, ALICE)
        assert (await client.get("/console/letters/1/print")).status_code == 409
        early = await post(client, "/console/letters/1/delivered", {"on": "2026-03-05"},
                           page="/console/letters/1")
        assert early.status_code == 409
        await person.say("WITHDRAW")
        refused = await post(client, "/console/letters/1/approve", {"version": "1"},
                             page="/console/letters/1")
        assert refused.status_code == 409 and "withdrew" in refused.text
        assert (await letter_row(app, 1))["status"] == "held"
        bad = await post(client, "/console/letters/1/delivered", {"on": "soon"},
                         page="/console/letters/1")
        assert bad.status_code == 400


async def test_a_corrected_typed_in_letter_needs_someone_else_again(settings: Settings) -> None:
    async with console(settings, clock=MiddayClock()) as (app, client):
        case_id, _ = await setup(app, client)
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters", {"text": "I am sory."},
                   page=f"/console/cases/{case_id}")
        await post(client, "/console/logout")
        await login(client, BOB)
        fixed = await post(client, "/console/letters/1/edit",
                           {"version": "1", "text": "I am sorry.", "reason": "Spelling."},
                           page="/console/letters/1")
        assert fixed.status_code == 303
        own = await post(client, "/console/letters/1/approve", {"version": "2"},
                         page="/console/letters/1")
        assert own.status_code == 409
        await post(client, "/console/logout")
        await login(client, SUE)
        assert (await post(client, "/console/letters/1/approve", {"version": "2"},
                           page="/console/letters/1")).status_code == 303
        row = await letter_row(app, 1)
        assert row["approved_version"] == 2 and row["approved_by"] == SUE
