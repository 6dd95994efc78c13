"""Script and SQL text in every free-text field: stored as typed, shown inertly (escaped)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from tests.console_kit import add_user, console, login, new_contact, post, service_of
from tests.test_console_referrals import FORM

SUE = "sue@example.org"


def evil(field: str) -> str:
    return f"<script>alert('{field}')</script>\"'; DROP TABLE cases;--"


def escaped(field: str) -> str:
    return (f"&lt;script&gt;alert(&#39;{field}&#39;)&lt;/script&gt;&#34;&#39;;"
            " DROP TABLE cases;--")


def assert_inert(page: str, fields: list[str]) -> None:
    assert "<script>" not in page
    for field in fields:
        assert escaped(field) in page, f"{field} is not shown escaped"


async def _tables(app: Starlette) -> int:
    return int(await service_of(app).db.read(lambda c: c.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]))


async def test_case_fields_are_escaped_everywhere(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        tables = await _tables(app)
        case_id = await new_contact(app, name=evil("name"))
        await login(client, SUE)
        case = f"/console/cases/{case_id}"
        preview = await post(client, f"{case}/message/preview", {"text": evil("message")})
        assert preview.status_code == 200
        assert_inert(preview.text, ["message"])
        assert (await post(client, f"{case}/message", {"text": evil("message")})).status_code \
            == 303
        assert (await post(client, f"{case}/meetings", {
            "kind": "meeting", "mode": "in_person", "at": "2099-03-05T14:30",
            "place": evil("place")})).status_code == 303
        assert (await post(client, f"{case}/other-party", {
            "name": evil("op_name"), "offender_manager": evil("op_om"),
            "notes": evil("op_notes"), "version": "0"})).status_code == 303
        assert (await post(client, f"{case}/outcomes", {
            "action": evil("oi_action"), "who": evil("oi_who"),
            "check": evil("oi_check")})).status_code == 303
        page = (await client.get(case)).text
        assert_inert(page, ["name", "message", "place", "op_name", "op_om", "op_notes",
                            "oi_action", "oi_who", "oi_check"])
        assert (await post(client, f"{case}/close", {
            "reason": "other", "note": evil("close")})).status_code == 303
        closed = (await client.get(case)).text
        assert_inert(closed, ["close", "op_name", "op_om"])
        assert await _tables(app) == tables


async def _referral(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await post(client, "/console/referrals", form, page="/console/referrals/new")


async def test_referral_fields_are_escaped_on_the_form_and_the_case(settings: Settings) -> None:
    fields = ["referrer_name", "referrer_org", "referrer_contact", "name", "phone_call",
              "email", "offence_type", "notes"]
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        form = {**FORM, **{f: evil(f) for f in fields}}
        refused = await _referral(client, {**form, "court": ""})  # re-shown with the problem
        assert refused.status_code == 400
        assert_inert(refused.text, fields)
        done = await _referral(client, form)
        assert done.status_code == 303
        page = (await client.get(done.headers["location"])).text
        assert_inert(page, fields)


CASE_POSTS = ["replied", "message/preview", "message", "meetings", "meetings/held",
              "other-party", "outcomes", "outcomes/1/done", "checkins", "close",
              "passphrase-reset", "erase", "erasure-refused", "assign"]


async def test_a_facilitator_cannot_reach_another_case_through_any_action(
    settings: Settings
) -> None:
    async with console(settings) as (app, client):
        await add_user(app, "carol@example.org", "Carol")
        case_id = await new_contact(app, "+447700900444", name="Quintessa")
        await login(client, "carol@example.org")
        shown = await client.get(f"/console/cases/{case_id}")
        assert shown.status_code == 403
        before = await service_of(app).db.read(
            lambda c: c.execute("SELECT count(*) FROM audit WHERE action NOT IN"
                                " ('case_access_denied', 'supervisor_page_denied')").fetchone()[0])
        for action in CASE_POSTS:
            got = await post(client, f"/console/cases/{case_id}/{action}",
                             {"text": "hi", "confirm": "yes", "reason": "other",
                              "exemption": "x", "first": "1"})
            assert got.status_code == 403, action
            assert "Quintessa" not in got.text and "900444" not in got.text, action
        after = await service_of(app).db.read(
            lambda c: c.execute("SELECT count(*) FROM audit WHERE action NOT IN"
                                " ('case_access_denied', 'supervisor_page_denied')").fetchone()[0])
        assert after == before  # nothing was done
        assert (await client.get("/console/cases/9999")).status_code == 404
