"""After an erasure nothing more reaches, revives or records the person; and content added
after an erasure can be erased again (console and retention)."""

from __future__ import annotations

import pytest

from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.privacy import retention, sealed
from bot.privacy.subject import erase, has_content
from bot.runtime import Inbound
from bot.service import Service
from bot.store import links
from tests.console_kit import add_user, console, login, post, service_of

PHONE = "+447700900556"
OPEN = ("hello", "1", "1", "1", "Sam", "1", "2", "2")


async def _open_case(svc: Service) -> None:
    for n, t in enumerate(OPEN):
        await svc.runtime.handle(Inbound("sms", PHONE, f"SM{n:032d}", t))


async def test_console_erasure_closes_the_case_and_nothing_more_is_sent(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, "sue@x.org", "Sue", supervisor=True)
        svc = service_of(app)
        await _open_case(svc)
        case = "/console/cases/1"
        await login(client, "sue@x.org")
        code = await svc.db.write(lambda c: links.create(c, svc.cipher, 1, 0.0, actor="f"))
        assert code
        assert (await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
                ).status_code == 303
        r = await post(client, f"{case}/message", {"text": "hello again"}, page=case)
        assert r.status_code == 409
        assert "content was erased" in r.text
        r = await post(client, f"{case}/other-party", {"name": "Zed Newname"}, page=case)
        assert r.status_code in (400, 409)
        with pytest.raises(ValueError, match="erased"):
            await svc.runtime.act(1, "send_message", {"text": "x"}, "sue@x.org")
        state = await svc.db.read(lambda c: (
            c.execute("SELECT count(*) FROM cases WHERE person_id = 1"
                      " AND closed_at IS NULL").fetchone()[0],
            c.execute("SELECT count(*) FROM outbox WHERE person_id = 1"
                      " AND status IN ('pending', 'held', 'sending')").fetchone()[0],
            c.execute("SELECT count(*) FROM jobs WHERE person_id = 1"
                      " AND status = 'pending'").fetchone()[0],
            c.execute("SELECT count(*) FROM link_codes WHERE person_id = 1").fetchone()[0],
            c.execute("SELECT count(*) FROM addresses WHERE person_id = 1"
                      " AND length(address_enc) > 0").fetchone()[0]))
        assert state == (0, 0, 0, 0, 0)
        # someone else is still answered: the sender is not wedged by the erased person
        out: list[object] = []
        svc.sender.channels["sms"] = ConsoleChannel("sms", out.append)
        await svc.runtime.handle(Inbound("sms", "+447700900999", "SMother", "hello"))
        await svc.db.write(lambda c: c.execute(
            "UPDATE outbox SET next_attempt_at = 0, not_before = 0 WHERE status = 'pending'"))
        await svc.sender.send_due()
        stuck = await svc.db.read(lambda c: c.execute(
            "SELECT status, person_id FROM outbox WHERE person_id != 1").fetchall())
        assert stuck and all(r[0] in ("sending", "sent") for r in stuck)  # claimed, not wedged


async def test_a_link_code_does_not_revive_an_erased_person(service: Service) -> None:
    await service.runtime.handle(Inbound("sms", PHONE, "SMx", "hello"))
    code = await service.db.write(lambda c: links.create(c, service.cipher, 1, 0.0, actor="f"))
    await service.db.write(lambda c: c.execute("UPDATE people SET status = 'erased'"))
    got = await service.db.write(lambda c: links.redeem(c, service.cipher, code, "telegram",
                                                        "123456", 2.0))
    assert got is None
    await service.db.write(lambda c: erase(c, 1, 3.0, "cli"))
    left = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM link_codes").fetchone()[0])
    assert left == 0


async def test_content_added_after_an_erasure_is_erased_again(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, "sue@x.org", "Sue", supervisor=True)
        svc = service_of(app)
        await _open_case(svc)
        case = "/console/cases/1"
        await login(client, "sue@x.org")
        assert (await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
                ).status_code == 303
        assert not await svc.db.read(lambda c: has_content(c, 1))
        again = await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
        assert again.status_code == 409          # nothing left: already erased
        # content recorded about them afterwards (e.g. by a path that missed the flag)
        await svc.db.write(lambda c: c.execute(
            "INSERT OR REPLACE INTO other_parties (case_id, data_enc, updated_by, updated_at)"
            " VALUES (1, ?, 'x', 1.0)",
            (sealed.seal(svc.cipher, '{"name": "Zed"}', "other_parties", "data_enc", case_id=1),)))
        assert await svc.db.read(lambda c: has_content(c, 1))
        due = await svc.db.read(lambda c: retention.due_for_erasure(
            c, retention.Retention(1, 1), 10.0**12))
        assert 1 in due
        r = await post(client, f"{case}/erase", {"confirm": "yes"}, page=case)
        assert r.status_code == 303
        assert not await svc.db.read(lambda c: has_content(c, 1))
