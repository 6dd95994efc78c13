"""Dashboard, assignment, access control, case actions and their audit, through the ASGI app."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.clock import from_ts
from bot.config import Settings
from bot.privacy import retention, sealed
from bot.scheduler.windows import deliver_at
from bot.store import outbox
from bot.types import State
from tests.console_kit import add_user, console, login, new_contact, post, service_of

SUE, ALICE, BOB, CAROL = (f"{n}@example.org" for n in ("sue", "alice", "bob", "carol"))


async def rows(app: Starlette, sql: str, *params: Any) -> list[dict[str, Any]]:
    return await service_of(app).db.read(
        lambda c: [dict(r) for r in c.execute(sql, params)])


async def staff(app: Starlette) -> dict[str, int]:
    return {
        "sue": await add_user(app, SUE, "Sue Super", supervisor=True),
        "alice": await add_user(app, ALICE, "Alice Adams"),
        "bob": await add_user(app, BOB, "Bob Brown"),
        "carol": await add_user(app, CAROL, "Carol Cole"),
    }


async def assign(client: httpx.AsyncClient, case_id: int, first: int, second: int) -> None:
    await login(client, SUE)
    done = await post(client, f"/console/cases/{case_id}/assign",
                      {"first": str(first), "second": str(second)})
    assert done.status_code == 303
    await post(client, "/console/logout")


async def test_new_contact_on_the_dashboard_with_its_clock(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        page = (await client.get("/console/")).text
        assert f'href="/console/cases/{case_id}">Case {case_id}</a>' in page
        assert "47 h 59 min left" in page or "48 h 00 min left" in page
        assert "+447700900123" not in page and "Sam" not in page  # no personal content
        await post(client, "/console/logout")
        await login(client, ALICE)
        assert f"Case {case_id}<" not in (await client.get("/console/")).text
        await post(client, "/console/logout")
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, ALICE)
        assert f"Case {case_id}<" in (await client.get("/console/")).text


async def test_overdue_contacts_come_first(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        first = await new_contact(app, "+447700900001", "Ann")
        second = await new_contact(app, "+447700900002", "Ben")
        await service_of(app).db.write(lambda c: c.execute(
            "UPDATE cases SET reply_due_at = reply_due_at - 72 * 3600 WHERE id = ?", (second,)))
        await login(client, SUE)
        page = (await client.get("/console/")).text
        assert page.index(f">Case {second}<") < page.index(f">Case {first}<")
        assert "overdue by 24 h" in page


async def test_a_facilitator_cannot_open_or_act_on_another_case(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, CAROL)
        page = await client.get(f"/console/cases/{case_id}")
        assert page.status_code == 403 and "+447700900123" not in page.text
        acted = await post(client, f"/console/cases/{case_id}/replied")
        assert acted.status_code == 403
        assert (await client.get("/console/cases/999")).status_code == 404
        denied = await rows(app, "SELECT actor, case_id FROM audit"
                                 " WHERE action = 'case_access_denied'")
        assert denied == [{"actor": CAROL, "case_id": case_id}] * 2
        stage = await rows(app, "SELECT stage FROM cases WHERE id = ?", case_id)
        assert stage == [{"stage": "new_contact"}]
        await post(client, "/console/logout")
        await login(client, ALICE, )
        shown = await client.get(f"/console/cases/{case_id}")
        assert shown.status_code == 200 and "+447700900123" in shown.text and "Sam" in shown.text
        assert shown.text.count("<h1") == 1


async def test_only_supervisors_assign_and_at_most_two(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await login(client, ALICE)
        refused = await post(client, f"/console/cases/{case_id}/assign",
                             {"first": str(ids["alice"])})
        assert refused.status_code == 403
        await post(client, "/console/logout")
        await assign(client, case_id, ids["alice"], ids["bob"])
        await assign(client, case_id, ids["carol"], ids["bob"])  # reassign
        now = await rows(app, "SELECT facilitator_id FROM case_assignments WHERE case_id = ?"
                              " ORDER BY facilitator_id", case_id)
        assert [r["facilitator_id"] for r in now] == sorted([ids["carol"], ids["bob"]])
        audit = await rows(app, "SELECT actor, detail FROM audit WHERE action = 'case_assigned'")
        assert [a["actor"] for a in audit] == [SUE, SUE]
        assert json.loads(audit[-1]["detail"]) == {"facilitators": sorted([ids["carol"],
                                                                            ids["bob"]])}


async def test_viewing_a_case_is_audited_and_shows_its_choices(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, ALICE)
        page = (await client.get(f"/console/cases/{case_id}")).text
        assert "First conversation by</dt><dd>Phone call" in page
        assert "hello" in page  # their first message, decrypted, in the timeline
        assert "reply reminder" in page  # the 24-hour reminder job
        views = await rows(app, "SELECT actor, case_id FROM audit WHERE action = 'case_viewed'")
        assert views == [{"actor": ALICE, "case_id": case_id}]


async def test_record_reply_stops_the_48_hour_clock(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        done = await post(client, f"/console/cases/{case_id}/replied")
        assert done.status_code == 303
        assert (await rows(app, "SELECT stage FROM cases WHERE id = ?", case_id)) == [
            {"stage": "first_conversation"}]
        clocks = await rows(app, "SELECT kind, status FROM jobs WHERE kind LIKE 'reply_%'"
                                 " ORDER BY kind")
        assert clocks == [{"kind": "reply_overdue", "status": "cancelled"},
                          {"kind": "reply_reminder", "status": "cancelled"}]
        replied = await rows(app, "SELECT actor, case_id FROM audit WHERE action = 'replied'")
        assert replied == [{"actor": SUE, "case_id": case_id}]
        assert f">Case {case_id}<" not in (await client.get("/console/")).text.split(
            "New contacts")[1].split("</section>")[0]


async def test_a_message_is_previewed_then_queued_for_the_safe_time(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        text = "Hello Sam, this is Sue from the team. Is Thursday good for a call?"
        preview = await post(client, f"/console/cases/{case_id}/message/preview", {"text": text})
        assert preview.status_code == 200
        assert "1 text message" in preview.text and "GSM-7" in preview.text
        assert 'value="Hello Sam, this is Sue' in preview.text
        before = await rows(app, "SELECT count(*) AS n FROM outbox")
        sent = await post(client, f"/console/cases/{case_id}/message", {"text": text})
        assert sent.status_code == 303
        out = await rows(app, "SELECT * FROM outbox ORDER BY id DESC LIMIT 1")
        assert (await rows(app, "SELECT count(*) AS n FROM outbox"))[0]["n"] == before[0]["n"] + 1
        row = out[0]
        assert row["priority"] == outbox.SCHEDULED
        expected = deliver_at(State(), from_ts(row["created_at"]))
        assert abs(row["not_before"] - expected.timestamp()) < 1
        payload = sealed.open_in(service_of(app).cipher, row["payload_enc"], "outbox",
                                 "payload_enc", row)
        assert json.loads(payload)["text"] == text
        audit = await rows(app, "SELECT actor, detail FROM audit WHERE action = 'message_sent'")
        assert [(a["actor"], json.loads(a["detail"])) for a in audit] == [
            (SUE, {"by": SUE, "length": len(text)})]
        assert text not in json.dumps(await rows(app, "SELECT * FROM audit"))


async def test_a_message_longer_than_three_sms_is_refused(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        long = "x" * 460  # 4 segments of 153
        preview = await post(client, f"/console/cases/{case_id}/message/preview", {"text": long})
        assert "longer than 3 text messages" in preview.text
        assert f'action="/console/cases/{case_id}/message"' not in preview.text
        refused = await post(client, f"/console/cases/{case_id}/message", {"text": long})
        assert refused.status_code == 400


async def test_schedule_meeting_other_party_outcome_and_close(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await new_contact(app)
        await login(client, SUE)
        case = f"/console/cases/{case_id}"
        meeting = await post(client, f"{case}/meetings", {
            "kind": "first_conversation", "mode": "in_person", "at": "2099-03-05T14:30",
            "place": "Maidstone library"})
        assert meeting.status_code == 303
        stored = await rows(app, "SELECT kind, mode, at, place_enc FROM meetings")
        assert stored[0]["kind"] == "first_conversation" and stored[0]["mode"] == "in_person"
        assert from_ts(stored[0]["at"]).isoformat() == "2099-03-05T14:30:00+00:00"  # GMT
        assert b"Maidstone" not in stored[0]["place_enc"]
        past = await post(client, f"{case}/meetings", {"kind": "meeting", "mode": "phone",
                                                       "at": "2001-01-01T10:00"})
        assert past.status_code == 400
        party = await post(client, f"{case}/other-party", {
            "name": "Pat Jones", "offender_manager": "OM Kim, 01622 000000",
            "accepted": "yes", "risk_assessed": "no", "version": "0"})
        assert party.status_code == 303
        op = await rows(app, "SELECT * FROM other_parties")
        assert op[0]["accepted_responsibility"] == 1 and op[0]["risk_assessed"] == 0
        assert b"Pat Jones" not in op[0]["data_enc"]
        item = await post(client, f"{case}/outcomes", {
            "action": "Write a letter of apology", "who": "Pat", "due_on": "2099-04-01",
            "check": "Facilitator reads it", "review_on": "2099-04-02"})
        assert item.status_code == 303
        page = (await client.get(case)).text
        assert "Pat Jones" in page and "Write a letter of apology" in page
        assert "Maidstone library" in page
        items = await rows(app, "SELECT id FROM outcome_items")
        done = await post(client, f"{case}/outcomes/{items[0]['id']}/done")
        assert done.status_code == 303
        closed = await post(client, f"{case}/close", {"reason": "completed", "note": "All done"})
        assert closed.status_code == 303
        c = await rows(app, "SELECT stage, closed_at FROM cases WHERE id = ?", case_id)
        assert c[0]["stage"] == "closed" and c[0]["closed_at"] is not None
        # only the feedback asked at closure is left (the retention sweep stays); the running
        # scheduler may already have sent it when closure fell in the person's safe time, so
        # both facts are read in one statement (two reads raced the scheduler under load)
        left = await rows(app, "SELECT kind, status FROM jobs WHERE person_id IS NOT NULL"
                               " AND (status = 'pending' OR kind = 'feedback')")
        assert [r["kind"] for r in left] == ["feedback"]
        assert left[0]["status"] in ("pending", "done")
        stats = await service_of(app).db.read(retention.statistics)
        assert stats["cases_by_outcome"] == {"completed": 1}
        assert (await post(client, f"{case}/replied")).status_code == 409
        actions = {r["action"] for r in await rows(
            app, "SELECT action FROM audit WHERE actor = ?", SUE)}
        assert {"meeting_recorded", "other_party_saved", "outcome_item_added",
                "outcome_item_done", "case_closed", "case_viewed"} <= actions


async def test_alerts_can_be_marked_handled(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        await new_contact(app, "+447700900001")
        await new_contact(app, "+447700900002")
        alerts = await rows(app, "SELECT id FROM alerts WHERE kind = 'new_contact' ORDER BY id")
        assert len(alerts) == 2
        await login(client, CAROL)  # not assigned: cannot touch these cases' alerts
        assert (await post(client, f"/console/alerts/{alerts[1]['id']}/handled")
                ).status_code == 403
        await post(client, "/console/logout")
        await login(client, SUE)
        done = await post(client, f"/console/alerts/{alerts[0]['id']}/handled")
        assert done.status_code == 303
        left = await rows(app, "SELECT id FROM alerts WHERE handled_at IS NULL"
                               " AND kind = 'new_contact'")
        assert left == [alerts[1]]


async def test_the_console_shows_each_persons_language(settings: Settings) -> None:
    """The dashboard and the case page name the language the person chose, in its own words
    and in English, so staff know how to write back."""
    from bot.runtime import Inbound

    async with console(settings) as (app, client):
        await staff(app)
        english = await new_contact(app)
        polish = await new_contact(app, address="+447700900124")
        await service_of(app).runtime.handle(Inbound("sms", "+447700900124", "pl-1", "polski"))
        await login(client, SUE)
        page = (await client.get("/console/")).text
        assert "<th scope=\"col\">Language</th>" in page
        assert "<td>Polski (Polish)</td>" in page and "<td>English</td>" in page
        case = (await client.get(f"/console/cases/{polish}")).text
        assert '<dt>Language</dt><dd lang="pl">Polski (Polish)</dd>' in case
        case = (await client.get(f"/console/cases/{english}")).text
        assert '<dt>Language</dt><dd lang="en-GB">English</dd>' in case
