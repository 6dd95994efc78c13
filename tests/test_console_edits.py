"""Issue 16: notices from a fixed list, clear refusals, letter versions in words, no lost
edits (a stale save is refused with both versions; an expired session keeps the text)."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import httpx

from bot.clock import to_ts
from bot.config import Settings
from bot.runtime import Inbound
from bot.store import casework, records
from tests.console_kit import (
    MiddayClock,
    console,
    csrf_of,
    login,
    message_in,
    new_contact,
    post,
    raise_alert,
    service_of,
)
from tests.test_console_cases import ALICE, BOB, SUE, assign, rows, staff


def section(page: str, element_id: str) -> str:
    """The element with this id, up to its closing tag (sections and tables are not nested)."""
    start = page.index(f'id="{element_id}"')
    tag = page.rfind("<", 0, start)
    name = re.match(r"<(\w+)", page[tag:])
    assert name
    return page[tag:page.index(f"</{name.group(1)}>", start)]


async def test_a_notice_comes_from_the_fixed_list_never_from_the_url(settings: Settings) -> None:
    """Bug 5: ?done=any text was shown as a green system notice."""
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        forged = "Call 0800 000 000 now to verify your account"
        page = (await client.get(f"/console/cases/{case_id}", params={"done": forged})).text
        assert forged not in page and 'class="notice"' not in page
        for url in ("/console/", f"/console/cases/{case_id}"):
            assert 'class="notice"' not in (await client.get(url, params={"done": "x"})).text
        done = await post(client, f"/console/cases/{case_id}/replied",
                          page=f"/console/cases/{case_id}")
        location = done.headers["location"]
        assert location == f"/console/cases/{case_id}?done=replied#done"
        page = (await client.get(location)).text
        assert 'id="done"' in page and "Reply recorded. The 48-hour clock has stopped." in page


async def test_the_same_facilitator_twice_is_refused(settings: Settings) -> None:
    """Bug 10: choosing one facilitator as first and second silently saved one."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        same = await post(client, f"/console/cases/{case_id}/assign",
                          {"first": str(ids["alice"]), "second": str(ids["alice"])})
        assert same.status_code == 400 and "two different people" in same.text
        assert f'href="/console/cases/{case_id}#h-assign"' in same.text
        assert await rows(app, "SELECT * FROM case_assignments") == []
        assert not await rows(app, "SELECT * FROM audit WHERE action = 'case_assigned'")
        one = await post(client, f"/console/cases/{case_id}/assign",
                         {"first": str(ids["alice"]), "second": ""})
        assert one.status_code == 303
        assert len(await rows(app, "SELECT * FROM case_assignments")) == 1


async def test_the_version_table_says_approved_after_approval(settings: Settings) -> None:
    """Bug 9: the letter's version table still said "submitted" after approval."""
    async with console(settings, clock=MiddayClock()) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, ALICE)
        await post(client, f"/console/cases/{case_id}/letters",
                   {"text": "I am sorry for what I did."}, page=f"/console/cases/{case_id}")
        await post(client, "/console/letters/1/edit",
                   {"version": "1", "text": "I am sorry for what I did to you.", "reason": "Typo."},
                   page="/console/letters/1")
        table = section((await client.get("/console/letters/1")).text, "versions")
        assert "Replaced by version 2" in table and "Waiting for approval" in table
        await post(client, "/console/logout")
        await login(client, BOB)
        approved = await post(client, "/console/letters/1/approve", {"version": "2"},
                              page="/console/letters/1")
        assert approved.status_code == 303
        table = section((await client.get("/console/letters/1")).text, "versions")
        assert "Approved by bob@example.org" in table
        assert "submitted" not in table.lower() and "Waiting for approval" not in table


async def test_a_stale_save_is_refused_with_both_versions(settings: Settings) -> None:
    """Bug 4: two facilitators editing "Other party" at once: the second save silently
    overwrote the first. Now each form carries its version; the stale one is refused."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        page = (await client.get(case)).text
        assert 'name="version" value="0"' in section(page, "other-party")
        first = await post(client, f"{case}/other-party",
                           {"name": "Pat Jones", "notes": "Alice's notes", "version": "0"},
                           page=case)
        assert first.status_code == 303
        await post(client, "/console/logout")
        await login(client, BOB)  # Bob's form was read before Alice saved: version 0
        stale = await post(client, f"{case}/other-party",
                           {"name": "P. Jones", "notes": "Bob's notes", "version": "0"},
                           page=case)
        assert stale.status_code == 409
        assert "Alice's notes" in stale.text.replace("&#39;", "'")  # theirs, shown
        mine = section(stale.text, "mine")
        assert "Bob&#39;s notes" in mine and 'value="P. Jones"' in mine  # mine, kept
        assert 'name="version" value="1"' in mine
        saved = await rows(app, "SELECT version, updated_by FROM other_parties")
        assert saved == [{"version": 1, "updated_by": ALICE}]
        again = await post(client, f"{case}/other-party",
                           {"name": "P. Jones", "notes": "Both notes", "version": "1"},
                           page=case)
        assert again.status_code == 303
        saved = await rows(app, "SELECT version, updated_by FROM other_parties")
        assert saved == [{"version": 2, "updated_by": BOB}]
        refused = await rows(app, "SELECT actor FROM audit WHERE action = 'stale_save_refused'")
        assert refused == [{"actor": BOB}]


async def test_a_form_posted_after_the_session_ended_keeps_its_text_through_sign_in(
        settings: Settings) -> None:
    """Deliverable 6: a session that expired while typing lost what was typed."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        token = csrf_of((await client.get(case)).text)
        await service_of(app).db.write(lambda c: c.execute(  # idle past the timeout
            "UPDATE console_sessions SET seen_at = seen_at - 2 * 3600"))
        typed = "Spoke to OM Kim: agrees to a letter first, meeting after"
        late = await client.post(f"{case}/other-party", data={
            "csrf": token, "name": "Pat Jones", "notes": typed, "version": "0"})
        assert late.status_code == 401 and "What you typed is kept" in late.text
        assert typed not in late.text  # the page says it is kept, not what it is
        assert await rows(app, "SELECT * FROM other_parties") == []
        kept = await rows(app, "SELECT fields_enc FROM console_drafts")
        assert len(kept) == 1 and typed.encode() not in kept[0]["fields_enc"]  # sealed

        signed_in = await login(client, ALICE)
        assert signed_in.headers["location"] == "/console/"
        back = await client.get("/console/")
        assert back.status_code == 303 and back.headers["location"] == f"{case}#resume"
        page = (await client.get(case)).text
        resume = section(page, "resume")
        assert typed in resume and f'action="{case}/other-party"' in resume
        assert (await client.get("/console/")).status_code == 200  # offered once
        form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', resume))
        saved = await client.post(f"{case}/other-party", data={**form, "notes": typed})
        assert saved.status_code == 303
        assert await rows(app, "SELECT * FROM console_drafts") == []
        assert 'id="resume"' not in (await client.get(case)).text
        assert len(await rows(app, "SELECT * FROM other_parties")) == 1
        await post(client, "/console/logout")
        await login(client, BOB)  # nobody else ever sees a kept form
        assert 'id="resume"' not in (await client.get(case)).text


async def test_an_outcome_item_done_cancels_its_own_review_reminder(settings: Settings) -> None:
    """Bug 6: marking an outcome item done left its review reminder pending."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        for action, review in (("Write a letter", "2099-04-02"), ("Phone call", "2099-05-01")):
            added = await post(client, f"{case}/outcomes", {
                "action": action, "who": "Pat", "review_on": review}, page=case)
            assert added.status_code == 303
        sql = ("SELECT json_extract(data, '$.ref') AS ref, status FROM jobs"
               " WHERE kind = 'review_due' ORDER BY id")
        assert await rows(app, sql) == [{"ref": 1, "status": "pending"},
                                        {"ref": 2, "status": "pending"}]
        done = await post(client, f"{case}/outcomes/1/done", page=case)
        assert done.status_code == 303
        assert await rows(app, sql) == [{"ref": 1, "status": "cancelled"},
                                        {"ref": 2, "status": "pending"}]  # only its own
        page = (await client.get(done.headers["location"])).text
        assert "Its review reminder is cancelled." in page


async def _book(client: httpx.AsyncClient, case: str, kind: str, days: int) -> None:
    at = (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
    booked = await post(client, f"{case}/meetings", {"kind": kind, "mode": "phone", "at": at},
                        page=case)
    assert booked.status_code == 303, booked.text


async def test_only_an_appointment_whose_time_has_come_can_be_held(settings: Settings) -> None:
    """Bug 1: with a first conversation tomorrow and a meeting in 21 days, "the latest meeting
    was held" marked the future meeting held today, moved the case to aftercare and started
    check-ins."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        await post(client, f"{case}/replied", page=case)
        await _book(client, case, "first_conversation", 1)
        await _book(client, case, "meeting", 21)
        page = (await client.get(case)).text
        assert "Record it was held" not in page  # both still to come
        for meeting in ("1", "2"):
            early = await post(client, f"{case}/meetings/held", {"meeting": meeting}, page=case)
            assert early.status_code == 400 and "still to come" in early.text
        assert await rows(app, "SELECT held_at FROM meetings WHERE held_at IS NOT NULL") == []
        assert (await rows(app, "SELECT stage FROM cases"))[0]["stage"] == "first_conversation"
        assert not await rows(app, "SELECT * FROM jobs WHERE kind = 'checkin'")

        await service_of(app).db.write(lambda c: c.execute(  # the first conversation's time
            "UPDATE meetings SET at = at - 2 * 86400 WHERE kind = 'first_conversation'"))
        page = section((await client.get(case)).text, "meetings")
        assert page.count("Record it was held") == 1
        held = await post(client, f"{case}/meetings/held", {"meeting": "1"}, page=case)
        assert held.status_code == 303
        page = (await client.get(held.headers["location"])).text
        assert "First conversation marked as held." in page
        met = await rows(app, "SELECT kind, held_at IS NOT NULL AS held FROM meetings ORDER BY id")
        assert met == [{"kind": "first_conversation", "held": 1}, {"kind": "meeting", "held": 0}]
        assert (await rows(app, "SELECT stage FROM cases"))[0]["stage"] == "first_conversation"
        assert not await rows(app, "SELECT * FROM jobs WHERE kind = 'checkin'")
        # the meeting's own reminder is still there
        assert await rows(app, "SELECT * FROM jobs WHERE kind = 'meeting_reminder'"
                               " AND status = 'pending'")


async def test_withdrawal_and_erasure_stop_the_clock_and_clear_the_dashboard(
        settings: Settings) -> None:
    """Bugs 3 and 8: a withdrawn case stayed in New contacts with its clock running; after
    erasure the case page said "Status active" with a running clock; alerts for closed and
    erased cases, and "new contact" alerts after a reply was recorded, stayed."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        first = await new_contact(app, "+447700900001", "Ann")
        second = await new_contact(app, "+447700900002", "Ben")
        third = await new_contact(app, "+447700900003", "Cat")
        for case_id in (first, second, third):
            await raise_alert(app, "new_contact", case_id)
        await login(client, SUE)
        await post(client, f"/console/cases/{first}/replied", page=f"/console/cases/{first}")
        assert not await rows(app, "SELECT * FROM alerts WHERE case_id = ? AND kind ="
                                   " 'new_contact' AND handled_at IS NULL", first)

        await service_of(app).runtime.handle(Inbound("sms", "+447700900002", "w-1", "STOP"))
        dash = (await client.get("/console/")).text
        assert f">Case {second}<" not in dash.split('id="h-new"')[1].split("</section>")[0]
        page = (await client.get(f"/console/cases/{second}")).text
        assert "Reply clock: stopped (withdrawn)" in page and " left<" not in page

        erased = await post(client, f"/console/cases/{third}/erase", {"confirm": "yes"},
                            page=f"/console/cases/{third}")
        assert erased.status_code == 303
        page = (await client.get(f"/console/cases/{third}")).text
        assert "<dd>Erased" in page and "<dd>Active" not in page and " left<" not in page
        dash = (await client.get("/console/")).text
        assert f">Case {third}<" not in dash  # neither its clock nor its alerts
        await post(client, f"/console/cases/{second}/close", {"reason": "withdrew"},
                   page=f"/console/cases/{second}")
        dash = (await client.get("/console/")).text
        assert f">Case {second}<" not in dash
        assert f">Case {first}<" in dash and ids


async def test_booking_the_meeting_keeps_the_first_conversations_reminder(
        settings: Settings) -> None:
    """Bug 2: booking the meeting cancelled the first conversation's reminder."""
    async with console(settings, clock=MiddayClock()) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        await post(client, f"{case}/replied", page=case)
        await _book(client, case, "first_conversation", 3)
        await _book(client, case, "meeting", 21)
        sql = ("SELECT json_extract(data, '$.kind') AS kind FROM jobs WHERE"
               " kind = 'meeting_reminder' AND status = 'pending' ORDER BY due_at")
        assert await rows(app, sql) == [{"kind": "first_conversation"}, {"kind": "meeting"}]
        await _book(client, case, "first_conversation", 4)  # moved: its own reminder follows
        assert await rows(app, sql) == [{"kind": "first_conversation"}, {"kind": "meeting"}]
        svc = service_of(app)
        await svc.db.write(lambda c: c.execute(  # the first conversation's reminder is due
            "UPDATE jobs SET due_at = ? WHERE kind = 'meeting_reminder' AND status = 'pending'"
            " AND json_extract(data, '$.kind') = 'first_conversation'",
            (svc.runtime.clock.now().timestamp() - 60,)))
        before = len(await rows(app, "SELECT * FROM outbox"))
        await svc.runtime.fire_due()
        assert len(await rows(app, "SELECT * FROM outbox")) == before + 1  # it was said
        assert await rows(app, sql) == [{"kind": "meeting"}]


async def test_the_case_page_puts_the_conversation_first_in_words(settings: Settings) -> None:
    """Deliverable 1: the thread newest first with the reply box beside it, stored answers in
    words (no {'days': [2, 7, 30]}, True, None, go_ahead, in_person), admin forms collapsed
    at the bottom, in-page navigation."""
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        svc = service_of(app)
        person = await svc.db.read(lambda c: c.execute(
            "SELECT person_id FROM cases WHERE id = ?", (case_id,)).fetchone()[0])
        await message_in(app, case_id, "an older message")
        await message_in(app, case_id, "the newest message")

        def answers(c: sqlite3.Connection) -> None:
            state, version = records.load_state(c, svc.cipher, person)
            for key, value in (("checkin_plan", {"days": [2, 7, 30]}), ("voicemail", True),
                               ("area", None), ("next_step", "go_ahead"),
                               ("preferred_mode", "in_person")):
                state = state.with_answer(key, value)
            records.save_state(c, svc.cipher, person, state, version, 0.0)

        await svc.db.write(answers)
        await login(client, SUE)
        page = (await client.get(f"/console/cases/{case_id}")).text
        shown = re.sub(r"<[^>]*>", "|", page)  # the text, not attribute values
        for raw in ("{&#39;days&#39;", "|True|", "|None|", "go_ahead", "in_person"):
            assert raw not in shown, raw
        assert "Days: 2, 7, 30" in page and "Go ahead" in page and "In person" in page
        order = [page.index(x) for x in (
            'id="conversation"', "the newest message", "an older message", 'id="reply"',
            'id="h-person"', 'id="admin"', '<details id="assign"', '<details id="erasure"')]
        assert order == sorted(order)
        assert 'aria-label="On this page"' in page and 'href="#conversation"' in page


async def test_words_sent_after_the_closing_reach_the_dashboard(settings: Settings) -> None:
    """Bug 8 hid every non-risk alert of a closed case, so a feedback comment sent after the
    closing (its alert has no open case) reached nobody; what came before stays hidden."""
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        before = await raise_alert(app, "message", case_id)
        await login(client, SUE)
        closed = await post(client, f"/console/cases/{case_id}/close",
                            {"reason": "completed"}, page=f"/console/cases/{case_id}")
        assert closed.status_code == 303
        svc = service_of(app)
        person = (await rows(app, "SELECT person_id FROM cases WHERE id = ?", case_id))[0]
        later = to_ts(svc.runtime.clock.now()) + 60
        after = await svc.db.write(lambda c: int(c.execute(
            "INSERT INTO alerts (kind, person_id, case_id, data, created_at)"
            " VALUES ('message', ?, NULL, '{}', ?)", (person["person_id"], later)).lastrowid))
        found = await svc.db.read(lambda c: casework.open_alerts(c, None))
        ids = [a.id for group in found.values() for a in group]
        assert after in ids and before not in ids
