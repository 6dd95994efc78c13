"""An access request gives the person their own data, not other people's (issue 17, item 8):
no other party, no referrer's name or notes, no staff addresses; a page in plain words, not a
JSON dump; supervisors run it from the case page, and it is audited."""

from __future__ import annotations

import json

from bot.config import Settings
from bot.privacy import subject
from bot.runtime import Inbound
from tests.console_kit import add_user, console, csrf_of, login, post, service_of
from tests.test_console_cases import ALICE, BOB, SUE, assign, rows
from tests.test_console_referrals import FORM

OTHER = "Quillon Barraclough"  # the person who caused the harm
REFERRER_NOTE = "neighbour Dervla Oakes saw it"


async def test_a_supervisor_downloads_the_persons_own_page(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        alice = await add_user(app, ALICE, "Alice")
        bob = await add_user(app, BOB, "Bob")
        await login(client, SUE)
        form = {**FORM, "consent_sms": "yes", "notes": REFERRER_NOTE}
        done = await post(client, "/console/referrals", form, page="/console/referrals/new")
        case = done.headers["location"].split("?")[0]
        case_id = int(case.rsplit("/", 1)[1])
        await post(client, f"{case}/other-party", {"name": OTHER, "version": "0"}, page=case)
        svc = service_of(app)
        await svc.runtime.handle(Inbound("sms", "+447700900456", "SMx1", "hello there"))
        await post(client, "/console/logout")
        await assign(client, case_id, alice, bob)  # signs Sue in and out
        await login(client, SUE)
        page = await client.get(case)
        assert OTHER in page.text  # staff see it; the person's export must not

        got = await client.post(f"{case}/access-export", data={"csrf": csrf_of(page.text)})
        assert got.status_code == 200
        assert "attachment" in got.headers["content-disposition"]
        assert got.headers["cache-control"] == "no-store"
        text = got.text
        for own in ("hello there", "+447700900456", "Your messages", "What you agreed to",
                    "How you were referred to us", "Kent Police"):
            assert own in text, own
        for theirs in (OTHER, "PC Morgan", "morgan@police.example", REFERRER_NOTE, SUE,
                       ALICE, '{"'):  # nor a JSON dump
            assert theirs not in text, theirs
        assert "left out because they are about other people" in text
        exported = await rows(app, "SELECT actor, case_id, detail FROM audit"
                                   " WHERE action = 'exported'")
        assert exported == [{"actor": SUE, "case_id": case_id,
                             "detail": json.dumps({"via": "console"}, separators=(",", ":"))}]
        data = await svc.db.read(lambda c: subject.export(c, svc.cipher, 1))
        assert OTHER not in json.dumps(data) and "other_party" not in data

        await post(client, "/console/logout")
        await login(client, ALICE)
        page = await client.get(case)
        assert "Download what we hold" not in page.text
        denied = await client.post(f"{case}/access-export", data={"csrf": csrf_of(page.text)})
        assert denied.status_code == 403
        no_csrf = await client.post(f"{case}/access-export", data={})
        assert no_csrf.status_code == 403
