"""Supervisor pages: the audit log with its chain verified, and erasure from the case page."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from starlette.applications import Starlette

from bot.config import Settings
from bot.privacy import subject
from bot.runtime import Inbound
from bot.store import audit
from tests.console_kit import add_user, console, csrf_of, login, new_contact, post, service_of
from tests.test_console_cases import ALICE, BOB, SUE, assign, rows

PHONE = "+447700900321"
WORDS = ["Zephyrwick", "Marrowgate Library", "Pat Quenby"]


async def test_only_supervisors_see_the_audit_log_and_its_verification(
    settings: Settings
) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await add_user(app, ALICE, "Alice")
        case_id = await new_contact(app, PHONE)
        assert (await client.get("/console/audit")).status_code == 303  # sign in first
        await login(client, ALICE)
        denied = await client.get("/console/audit")
        assert denied.status_code == 403 and "case_opened" not in denied.text
        assert "/console/audit" not in (await client.get("/console/")).text  # no link either
        await post(client, "/console/logout")
        await login(client, SUE)
        page = await client.get("/console/audit")
        assert page.status_code == 200 and page.text.count("<h1") == 1
        assert "Chain verified" in page.text and "case opened" in page.text
        assert "login" in page.text and ALICE in page.text  # Alice's refused visit is there
        only = await client.get(f"/console/audit?case={case_id}")
        assert "case opened" in only.text and "supervisor page denied" not in only.text
        actions = [r["action"] for r in await rows(app, "SELECT action FROM audit")]
        assert {"supervisor_page_denied", "audit_viewed"} <= set(actions)


async def test_a_broken_chain_is_shown_as_broken(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        raw = sqlite3.connect(settings.database)
        raw.executescript("DROP TRIGGER audit_no_update;"
                          " UPDATE audit SET actor = 'mallory' WHERE id = 1;")
        raw.close()
        page = await client.get("/console/audit")
        assert page.status_code == 200
        assert "BROKEN: row 1 was altered" in page.text and "Chain verified" not in page.text


async def _case_with_words(app: Starlette) -> int:
    """First contact with a unique name, under provider-style message ids (no phone in them)."""
    runtime = service_of(app).runtime
    for n, text in enumerate(("hello", "1", "1", "1", WORDS[0], "1", "2", "2",
                              f"{WORDS[0]} again")):
        await runtime.handle(Inbound("sms", PHONE, f"SM{n:032d}", text))
    found = await rows(app, "SELECT max(id) AS id FROM cases")
    return int(found[0]["id"])


async def test_a_supervisor_erases_from_the_case_page(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        alice = await add_user(app, ALICE, "Alice")
        bob = await add_user(app, BOB, "Bob")
        case_id = await _case_with_words(app)
        await assign(client, case_id, alice, bob)
        case = f"/console/cases/{case_id}"
        await login(client, ALICE)
        page = await client.get(case)
        assert "Erase personal content" not in page.text
        token = csrf_of(page.text)
        refused = await client.post(f"{case}/erase", data={"csrf": token, "confirm": "yes"})
        assert refused.status_code == 403
        await post(client, "/console/logout")

        await login(client, SUE)
        await post(client, f"{case}/meetings", {"kind": "meeting", "mode": "in_person",
                                                "at": "2099-03-05T14:30", "place": WORDS[1]})
        await post(client, f"{case}/other-party", {"name": WORDS[2], "version": "0"})
        await post(client, f"{case}/outcomes", {"action": f"Write to {WORDS[2]}", "who": "Pat"})
        page = await client.get(case)
        assert all(w in page.text for w in WORDS) and "Erase personal content" in page.text
        svc = service_of(app)
        before = json.dumps(await svc.db.read(lambda c: subject.export(c, svc.cipher, 1)))
        assert all(w in before for w in [*WORDS, PHONE])  # the access export has it all
        no_csrf = await client.post(f"{case}/erase", data={"confirm": "yes"})
        assert no_csrf.status_code == 403
        unconfirmed = await post(client, f"{case}/erase", {}, page=case)
        assert unconfirmed.status_code == 400
        assert WORDS[0] in (await client.get(case)).text  # nothing erased yet

        done = await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
        assert done.status_code == 303
        after = await client.get(case)
        assert after.status_code == 200 and "(erased)" in after.text
        for w in [*WORDS, PHONE]:
            assert w not in after.text
        exported = await svc.db.read(lambda c: subject.export(c, svc.cipher, 1))
        assert not any(w in json.dumps(exported) for w in [*WORDS, PHONE])
        assert (await svc.db.read(audit.verify)).ok
        again = await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
        assert again.status_code == 409
        raw = b"".join(p.read_bytes() for p in Path(settings.database).parent.glob("*.sqlite3*")
                       if p.suffix != ".key")
        for w in [*WORDS, PHONE]:
            assert w.encode() not in raw
        erased = await rows(app, "SELECT actor, person_id FROM audit WHERE action = 'erased'")
        assert erased == [{"actor": SUE, "person_id": 1}]
        kept = {r["action"] for r in await rows(app, "SELECT action FROM audit")}
        assert {"case_opened", "meeting_recorded", "other_party_saved", "erasure_requested",
                "case_viewed"} <= kept


async def test_an_erased_referral_case_still_renders(settings: Settings) -> None:
    from tests.test_console_referrals import FORM

    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        form = {**FORM, "name": WORDS[0], "notes": WORDS[1]}
        done = await post(client, "/console/referrals", form, page="/console/referrals/new")
        case = done.headers["location"].split("?")[0]
        assert WORDS[1] in (await client.get(case)).text
        assert (await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
                ).status_code == 303
        page = await client.get(case)
        assert page.status_code == 200 and "(erased)" in page.text
        assert WORDS[0] not in page.text and WORDS[1] not in page.text


async def test_a_refusal_records_the_exemption_and_keeps_the_content(
    settings: Settings
) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        case_id = await _case_with_words(app)
        case = f"/console/cases/{case_id}"
        await login(client, SUE)
        empty = await post(client, f"{case}/erasure-refused", {"exemption": ""}, page=case)
        assert empty.status_code == 400
        exemption = "legal claims (Art 17(3)(e)) <b>"
        done = await post(client, f"{case}/erasure-refused", {"exemption": exemption},
                          page=case)
        assert done.status_code == 303
        refusals = await rows(app, "SELECT actor, detail FROM audit"
                                   " WHERE action = 'erasure_refused'")
        assert [(r["actor"], json.loads(r["detail"])) for r in refusals] == [
            (SUE, {"exemption": exemption})]
        assert WORDS[0] in (await client.get(case)).text
        log = (await client.get("/console/audit")).text
        assert "legal claims (Art 17(3)(e)) &lt;b&gt;" in log and "<b>" not in log


async def test_a_forgotten_secret_word_is_cleared_only_with_csrf_and_confirmation(
    settings: Settings
) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        runtime = service_of(app).runtime
        for n, text in enumerate(("hello", "1", "1", "1", "Jo", "1", "2", "2", "1",
                                  "Quiet river", "quiet river")):
            await runtime.handle(Inbound("sms", PHONE, f"SM{n:032d}", text))
        case = "/console/cases/1"
        await login(client, SUE)
        page = (await client.get(case)).text
        assert "<dd>Set</dd>" in page and "pbkdf2" not in page and "Clear the secret word" in page
        assert (await client.post(f"{case}/passphrase-reset", data={"confirm": "yes"})
                ).status_code == 403
        assert (await post(client, f"{case}/passphrase-reset", {}, page=case)).status_code == 400
        assert "<dd>Set</dd>" in (await client.get(case)).text
        done = await post(client, f"{case}/passphrase-reset", {"confirm": "yes"}, page=case)
        assert done.status_code == 303
        assert "<dd>Not set</dd>" in (await client.get(case)).text
        resets = await rows(app, "SELECT actor FROM audit WHERE action = 'passphrase_reset'")
        assert resets == [{"actor": SUE}]
