"""Agency referrals: a case from a form; one discreet SMS only with consent, in safe hours."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette

from bot.clock import from_ts
from bot.config import Settings
from bot.console.sms import telling_words
from bot.flows.facilitator import REFERRAL_CONSENT_VERSION
from bot.privacy import sealed
from bot.scheduler.windows import WINDOWS, deliver_at
from bot.store import outbox
from bot.types import State
from tests.console_kit import add_user, console, login, post, service_of

SUE, ALICE = "sue@example.org", "alice@example.org"
FORM = {
    "referrer_name": "PC Morgan", "referrer_org": "Kent Police", "org_type": "police",
    "referrer_contact": "morgan@police.example", "name": "Jo", "phone": "07700 900456",
    "safe_times": "evenings", "offender_adult": "yes", "area_link": "offence_location",
    "offence_type": "burglary", "court": "concluded",
}


async def rows(app: Starlette, sql: str, *params: Any) -> list[dict[str, Any]]:
    return await service_of(app).db.read(lambda c: [dict(r) for r in c.execute(sql, params)])


async def test_referral_with_sms_consent_sends_one_discreet_text_in_safe_hours(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        form = await client.get("/console/referrals/new")
        assert form.status_code == 200 and form.text.count("<h1") == 1
        done = await post(client, "/console/referrals", {**FORM, "consent_sms": "yes"},
                          page="/console/referrals/new")
        assert done.status_code == 303
        case = (await rows(app, "SELECT * FROM cases"))[0]
        assert done.headers["location"].startswith(f"/console/cases/{case['id']}")
        assert case["stage"] == "new_contact" and "referral" in case["flags"]
        svc = service_of(app)
        address = await rows(app, "SELECT * FROM addresses")
        assert sealed.open_in(svc.cipher, address[0]["address_enc"], "addresses", "address_enc",
                              address[0]) == "+447700900456"
        consents = await rows(app, "SELECT version, scopes, channel FROM consents")
        assert consents == [{"version": REFERRAL_CONSENT_VERSION, "scopes": "contact_sms",
                             "channel": "sms"}]
        out = await rows(app, "SELECT * FROM outbox")
        assert len(out) == 1 and out[0]["priority"] == outbox.SCHEDULED
        expected = deliver_at(State(answers={"safe_times": "evenings"}),
                              from_ts(out[0]["created_at"]))
        assert abs(out[0]["not_before"] - expected.timestamp()) < 1
        text = json.loads(sealed.open_in(svc.cipher, out[0]["payload_enc"], "outbox", "payload_enc",
                                         out[0]))["text"]
        assert telling_words(text) == [] and "Jo" not in text and "Kent" not in text
        local_hour = from_ts(out[0]["not_before"]).astimezone(ZoneInfo("Europe/London")).hour
        first, last = WINDOWS["evenings"]
        assert first <= local_hour < last
        jobs = {r["kind"] for r in await rows(app, "SELECT kind FROM jobs"
                                                   " WHERE status = 'pending'")}
        assert {"reply_reminder", "reply_overdue"} <= jobs
        ref = (await rows(app, "SELECT * FROM referrals"))[0]
        assert ref["org_type"] == "police" and ref["consent_sms"] == 1
        assert b"Morgan" not in ref["data_enc"]
        page = (await client.get(f"/console/cases/{case['id']}")).text
        assert "PC Morgan, Kent Police" in page and "burglary" in page
        audit = {r["action"] for r in await rows(app, "SELECT action FROM audit")}
        assert {"referral_created", "referral_received"} <= audit


async def test_referral_without_sms_consent_sends_nothing(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await login(client, ALICE)
        done = await post(client, "/console/referrals", {**FORM, "consent_sms": "no"},
                          page="/console/referrals/new")
        assert done.status_code == 303
        assert await rows(app, "SELECT * FROM outbox") == []
        assert await rows(app, "SELECT * FROM addresses") == []  # nowhere to write to
        assert await rows(app, "SELECT * FROM consents") == []
        case = (await rows(app, "SELECT id FROM cases"))[0]
        # the facilitator who took the referral works on it, so they can open it
        assert (await client.get(f"/console/cases/{case['id']}")).status_code == 200


async def test_referral_needs_a_valid_mobile_for_sms_and_the_eligibility_answers(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        bad = await post(client, "/console/referrals",
                         {**FORM, "consent_sms": "yes", "phone": "12"},
                         page="/console/referrals/new")
        assert bad.status_code == 400 and "valid mobile number" in bad.text
        missing = {k: v for k, v in FORM.items() if k != "court"}
        bad = await post(client, "/console/referrals", missing, page="/console/referrals/new")
        assert bad.status_code == 400 and "age, area and court" in bad.text
        assert await rows(app, "SELECT * FROM cases") == []


async def test_a_number_that_cannot_take_a_text_is_refused_and_nothing_is_queued(
        settings: Settings) -> None:
    """Issue 16 bug 7: "12345" was saved as +4412345 and an SMS queued to it."""
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        for typed in ("12345", "01632 960123", "020 7946 0000"):  # no number; landlines
            bad = await post(client, "/console/referrals",
                             {**FORM, "consent_sms": "yes", "phone": typed},
                             page="/console/referrals/new")
            assert bad.status_code == 400, typed
            assert "not a valid mobile number for a text" in bad.text
            assert f'value="{typed}"' in bad.text  # kept in the form to correct
        for table in ("cases", "people", "addresses", "outbox", "messages"):
            assert await rows(app, f"SELECT * FROM {table}") == [], table
        done = await post(client, "/console/referrals",
                          {**FORM, "consent_sms": "yes", "phone": "+44 7700 900456"},
                          page="/console/referrals/new")
        assert done.status_code == 303
        assert len(await rows(app, "SELECT * FROM outbox")) == 1


async def test_flags_and_a_second_referral_for_an_open_case(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        form = {**FORM, "consent_sms": "yes", "offender_adult": "no", "court": "open",
                "sensitive": "yes"}
        assert (await post(client, "/console/referrals", form,
                           page="/console/referrals/new")).status_code == 303
        flags = (await rows(app, "SELECT flags FROM cases"))[0]["flags"].split(",")
        assert {"youth_justice", "on_hold_court", "victim_led_senior"} <= set(flags)
        again = await post(client, "/console/referrals", form, page="/console/referrals/new")
        assert again.status_code == 409
        assert len(await rows(app, "SELECT * FROM cases")) == 1
