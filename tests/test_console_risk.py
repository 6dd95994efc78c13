"""Risk as a case state and the "Messages waiting" inbox, through the real ASGI app.

Risk alerts reach every facilitator on duty (dashboard and the case page, audited as a risk
view); waiting messages are read only by the case's facilitators and supervisors."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from bot.crypto import new_key_text
from bot.privacy import sealed, subject
from bot.privacy.rotate import rotate
from bot.runtime import Inbound
from bot.service import cipher_for
from bot.store import casefile
from bot.store.db import Database
from tests.console_kit import (
    add_user,
    console,
    enquiry,
    login,
    message_in,
    new_contact,
    post,
    raise_alert,
    service_of,
)

SUE, ALICE, BOB, CAROL = (f"{n}@example.org" for n in ("sue", "alice", "bob", "carol"))
DANGER = "I want to kill myself"
WAITING = "Can someone ring me on Tuesday about the letter please"
NOTE = "Phoned her at once; she is with her sister tonight. Police told. Call again at 9."
BANNER = re.compile(r'<div class="risk" role="alert".*?</form>\s*</div>', re.S)


async def rows(app: Starlette, sql: str, *params: Any) -> list[dict[str, Any]]:
    return await service_of(app).db.read(lambda c: [dict(r) for r in c.execute(sql, params)])


async def audit(app: Starlette, action: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    found = await rows(app, "SELECT actor, case_id, detail FROM audit WHERE action = ?"
                            " ORDER BY id", action)
    return [(r["actor"], r["case_id"], json.loads(r["detail"])) for r in found]


async def staff(app: Starlette) -> dict[str, int]:
    return {"sue": await add_user(app, SUE, "Sue Super", supervisor=True),
            "alice": await add_user(app, ALICE, "Alice Adams"),
            "bob": await add_user(app, BOB, "Bob Brown"),
            "carol": await add_user(app, CAROL, "Carol Cole")}


async def assigned_case(app: Starlette, client: httpx.AsyncClient, ids: dict[str, int],
                        address: str = "+447700900123") -> int:
    """A finished first contact, given to Alice and Bob by Sue."""
    case_id = await new_contact(app, address)
    await login(client, SUE)
    done = await post(client, f"/console/cases/{case_id}/assign",
                      {"first": str(ids["alice"]), "second": str(ids["bob"])})
    assert done.status_code == 303
    await post(client, "/console/logout")
    return case_id


async def risk_alert(app: Starlette, case_id: int, text: str = DANGER,
                     **data: object) -> int:
    """A risk alert as the runtime raises it: the triggering message and its category."""
    message = await message_in(app, case_id, text)
    return await raise_alert(app, "risk", case_id, {"category": "suicide", "message": message,
                                                     **data})


def section(page: str, heading: str) -> str:
    """The dashboard section under a heading, up to the next section."""
    return page.split(f">{heading} (")[1].split("</section>")[0]


def local(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo("Europe/London")).strftime(
        "%a %d %b %Y %H:%M")


async def test_a_risk_alert_on_an_unfinished_enquiry_reaches_every_facilitator(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await staff(app)
        case_id = await enquiry(app, "+447700900555")
        alert_id = await risk_alert(app, case_id, cannot_text=True)
        await login(client, CAROL)  # nobody is assigned: a risk alert still reaches her
        page = (await client.get("/console/")).text
        risks = section(page, "Risk alerts")
        assert f"Enquiry {case_id}: first questions not finished" in risks
        assert "Risk: Suicide or self-harm" in risks and "No case yet" not in risks
        assert DANGER not in page  # no personal content on the dashboard
        shown = await client.get(f"/console/cases/{case_id}")
        assert shown.status_code == 200
        assert f"<h1>Enquiry {case_id}: first questions not finished</h1>" in shown.text
        banner = BANNER.findall(shown.text)
        assert len(banner) == 1 and DANGER in banner[0]
        for said in ("Did not finish the questions: safety not confirmed, reply only in this"
                     " chat and only discreetly",
                     "Opted out of SMS (STOP): the bot could not send the safety reply;"
                     " they cannot be texted",
                     "Not answered: not confirmed safe", "Not answered: keep it discreet",
                     "Not answered: do not leave one"):
            assert said in banner[0], said
        when = (await rows(app, "SELECT created_at FROM alerts WHERE id = ?", alert_id))[0]
        assert f"Raised <strong>{local(when['created_at'])}</strong> (Europe/London time)" \
            in banner[0]
        assert await audit(app, "case_viewed_for_risk") == [
            (CAROL, case_id, {"alerts": [alert_id]})]
        assert await audit(app, "case_viewed") == []
        await post(client, "/console/logout")
        await login(client, SUE)
        new = section((await client.get("/console/")).text, "New contacts")
        assert f">Enquiry {case_id}: first questions not finished</a>" in new


async def test_the_banner_gives_the_safe_contact_answers_and_flags(settings: Settings) -> None:
    """Through the real runtime: a person who said messages are not safe writes risk words."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        address = "+447700900321"
        runtime = service_of(app).runtime
        for n, text in enumerate(("hello", "3")):  # question 1: "No, it is not safe"
            await runtime.handle(Inbound("sms", address, f"{address}-{n}", text))
        case_id = int((await rows(app, "SELECT max(id) AS id FROM cases"))[0]["id"])
        await runtime.handle(Inbound("sms", address, f"{address}-risk", DANGER))
        open_risk = await rows(app, "SELECT id FROM alerts WHERE kind = 'risk'"
                                    " AND handled_at IS NULL")
        assert len(open_risk) == 1
        await login(client, SUE)
        await post(client, f"/console/cases/{case_id}/assign", {"first": str(ids["alice"])})
        await post(client, "/console/logout")
        await login(client, BOB)  # on duty, not assigned
        page = (await client.get(f"/console/cases/{case_id}")).text
        banner = BANNER.findall(page)
        assert len(banner) == 1 and DANGER in banner[0]
        assert "Do not message: the person said messages are not safe" in banner[0]
        assert "Safe to message here</dt><dd>No: do not message them" in banner[0]
        assert "Did not finish the questions" not in banner[0]


async def test_safe_contact_answers_in_plain_words(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)  # discreet, any time, voicemail yes
        await risk_alert(app, case_id, category="weapon")
        await login(client, ALICE)
        banner = BANNER.findall((await client.get(f"/console/cases/{case_id}")).text)[0]
        assert "Risk alert: A weapon" in banner
        for question, answer in (
                ("Safe to message here", "Yes"),
                ("Wording", "Discreet: nothing that says what the message is about"),
                ("Safe times", "Any time, 8:00 to 21:00"), ("Voicemail allowed", "Yes")):
            assert f"<dt>{question}</dt><dd>{answer}</dd>" in banner
        assert "<li>" not in banner  # no warning flags on this case


async def test_an_unassigned_facilitator_sees_the_risk_but_not_a_waiting_message(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        waiting = await raise_alert(app, "message", case_id,
                                    {"message": await message_in(app, case_id, WAITING)})
        await service_of(app).runtime.handle(Inbound("sms", "+447700900123", "risk-1", DANGER))
        risk_id = (await rows(app, "SELECT id FROM alerts WHERE kind = 'risk'"))[0]["id"]
        await login(client, CAROL)
        page = (await client.get("/console/")).text
        assert f">Case {case_id}</a>" in section(page, "Risk alerts")
        assert f"Case {case_id}" not in section(page, "Messages waiting")
        shown = (await client.get(f"/console/cases/{case_id}")).text
        assert DANGER in shown
        assert WAITING not in shown and 'id="waiting"' not in shown
        assert "Timeline" not in shown and "Other party" not in shown  # only what a response needs
        refused = await post(client, f"/console/alerts/{waiting}/read")
        assert refused.status_code == 403
        assert await audit(app, "case_access_denied") == [(CAROL, case_id, {"alert": waiting})]
        assert (await rows(app, "SELECT handled_at FROM alerts WHERE id = ?", waiting)) == [
            {"handled_at": None}]
        # another case, with only a waiting message: closed to her
        await post(client, "/console/logout")
        other = await assigned_case(app, client, ids, "+447700900999")
        await raise_alert(app, "message", other, {"message": await message_in(app, other, "x")})
        await login(client, CAROL)
        assert (await client.get(f"/console/cases/{other}")).status_code == 403
        # once the risk alert is resolved, the first case closes to her too
        resolved = await post(client, f"/console/alerts/{risk_id}/resolve",
                              {"note": NOTE, "back": "case"})
        assert resolved.status_code == 303 and resolved.headers["location"].startswith(
            "/console/?done=")
        assert (await client.get(f"/console/cases/{case_id}")).status_code == 403
        denied = [c for _, c, _ in await audit(app, "case_access_denied")]
        assert denied == [case_id, other, case_id]


async def test_messages_waiting_are_read_on_the_case_page_and_marked_read(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        alert_id = await raise_alert(app, "message", case_id,
                                     {"message": await message_in(app, case_id, WAITING)})
        await login(client, ALICE)
        inbox = section((await client.get("/console/")).text, "Messages waiting")
        assert f'href="/console/cases/{case_id}#waiting"' in inbox and WAITING not in inbox
        page = (await client.get(f"/console/cases/{case_id}")).text
        top = page.split('id="waiting"')[1].split("</section>")[0]
        assert WAITING in top and f'action="/console/alerts/{alert_id}/read"' in top
        assert page.index('id="waiting"') < page.index('id="h-person"')  # at the top
        assert await audit(app, "case_viewed") == [(ALICE, case_id, {"waiting": [alert_id]})]
        forged = await client.post(f"/console/alerts/{alert_id}/read", data={"csrf": "0" * 64})
        assert forged.status_code == 403
        assert (await rows(app, "SELECT handled_at FROM alerts WHERE id = ?", alert_id)) == [
            {"handled_at": None}]
        done = await post(client, f"/console/alerts/{alert_id}/read")
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/console/cases/{case_id}?done=")
        stored = await rows(app, "SELECT handled_at, handled_by FROM alerts WHERE id = ?",
                            alert_id)
        assert stored[0]["handled_at"] is not None and stored[0]["handled_by"] == ALICE
        assert await audit(app, "message_read") == [(ALICE, case_id, {"alert": alert_id})]
        assert WAITING not in json.dumps(await rows(app, "SELECT * FROM audit"))
        assert 'id="waiting"' not in (await client.get(f"/console/cases/{case_id}")).text
        assert section((await client.get("/console/")).text, "Messages waiting").startswith(
            "0)")


async def test_resolving_a_risk_alert_needs_a_short_note(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        alert_id = await risk_alert(app, case_id)
        await login(client, ALICE)
        url = f"/console/alerts/{alert_id}/resolve"
        for note in ("", "   "):
            empty = await post(client, url, {"note": note, "back": "case"})
            assert empty.status_code == 400
            assert "Write a short note of what was done" in empty.text
            assert 'aria-invalid="true"' in empty.text and DANGER in empty.text  # same page
        long = "x" * 501
        too_long = await post(client, url, {"note": long, "back": "case"})
        assert too_long.status_code == 400 and "The note has 501 characters" in too_long.text
        assert f">{long}</textarea>" in too_long.text  # nothing typed is lost
        from_dashboard = await post(client, url, {"note": "", "back": "dashboard"})
        assert from_dashboard.status_code == 400 and "<h1>Dashboard</h1>" in from_dashboard.text
        assert "Write a short note" in from_dashboard.text
        forged = await client.post(url, data={"csrf": "0" * 64, "note": NOTE})
        assert forged.status_code == 403
        generic = await post(client, f"/console/alerts/{alert_id}/handled")
        assert generic.status_code == 409
        assert await audit(app, "risk_resolved") == []
        assert (await rows(app, "SELECT handled_at FROM alerts WHERE id = ?", alert_id)) == [
            {"handled_at": None}]

        done = await post(client, url, {"note": NOTE, "back": "case"})
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/console/cases/{case_id}?done=")
        stored = (await rows(app, "SELECT handled_by, note_enc FROM alerts WHERE id = ?",
                             alert_id))[0]
        assert stored["handled_by"] == ALICE and NOTE.encode() not in stored["note_enc"]
        cipher = service_of(app).cipher
        assert sealed.open_in(cipher, stored["note_enc"], "alerts", "note_enc",
                              {"id": alert_id}) == NOTE
        assert await audit(app, "risk_resolved") == [
            (ALICE, case_id, {"alert": alert_id, "note_length": len(NOTE)})]
        assert NOTE not in json.dumps(await rows(app, "SELECT * FROM audit"))
        page = (await client.get(f"/console/cases/{case_id}")).text
        assert 'role="alert"' not in page
        history = page.split('id="risk-history"')[1].split("</section>")[0]
        assert NOTE in history and f"by {ALICE}" in history
        again = await post(client, url, {"note": NOTE, "back": "case"})
        assert again.status_code == 303 and "already" in again.headers["location"]
        assert len(await audit(app, "risk_resolved")) == 1


async def test_a_risk_alert_can_be_resolved_from_the_dashboard_by_anyone_on_duty(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        alert_id = await risk_alert(app, case_id)
        await login(client, CAROL)
        risks = section((await client.get("/console/")).text, "Risk alerts")
        assert f'action="/console/alerts/{alert_id}/resolve"' in risks
        done = await post(client, f"/console/alerts/{alert_id}/resolve",
                          {"note": NOTE, "back": "dashboard"})
        assert done.status_code == 303 and done.headers["location"].startswith("/console/?")
        page = (await client.get(done.headers["location"])).text
        assert "Risk alert resolved." in page and section(page, "Risk alerts").startswith("0)")
        assert await audit(app, "risk_resolved") == [
            (CAROL, case_id, {"alert": alert_id, "note_length": len(NOTE)})]


async def test_an_old_risk_alert_without_data_still_shows(settings: Settings) -> None:
    """Alerts raised before they carried data: the person's last message before it."""
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        await message_in(app, case_id, DANGER)
        await raise_alert(app, "risk", case_id)
        await login(client, BOB)
        banner = BANNER.findall((await client.get(f"/console/cases/{case_id}")).text)[0]
        assert "Risk alert: Words that may mean danger" in banner
        assert "Their last message before the alert" in banner and DANGER in banner


async def test_a_risk_note_survives_key_rotation_and_goes_with_erasure(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await assigned_case(app, client, ids)
        alert_id = await risk_alert(app, case_id)
        await login(client, ALICE)
        assert (await post(client, f"/console/alerts/{alert_id}/resolve",
                           {"note": NOTE, "back": "case"})).status_code == 303
    during = replace(settings, data_key=new_key_text(), data_key_old=settings.data_key)
    cipher = cipher_for(during)
    async with Database(settings.database) as db:
        assert await rotate(db, cipher) > 0
        note = await db.read(lambda c: casefile.case_alerts(c, cipher, case_id, True))
        assert [a.note for a in note] == [NOTE]
        sealed = await db.read(lambda c: c.execute(
            "SELECT note_enc FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0])
        assert bytes(sealed[1:5]) == cipher.current_key_id
        person = await db.read(lambda c: c.execute(
            "SELECT person_id FROM cases WHERE id = ?", (case_id,)).fetchone()[0])
        await db.write(lambda c: subject.erase(c, person, 0.0, SUE))
        assert await db.read(lambda c: c.execute(
            "SELECT length(note_enc) FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]) == 0
        assert not await db.read(lambda c: subject.has_content(c, person))
