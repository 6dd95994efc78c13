"""Search, case lists and reopen (issue 16 deliverable 3), on real SQLite through the ASGI app."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bot.config import Settings
from bot.runtime import Inbound
from bot.store import caselists, search
from tests.console_kit import add_user, console, login, new_contact, post, service_of

SUE, ALICE, BOB = (f"{n}@example.org" for n in ("sue", "alice", "bob"))
PHONE = "+447700900321"


async def rows(app: Starlette, sql: str, *params: Any) -> list[dict[str, Any]]:
    return await service_of(app).db.read(lambda c: [dict(r) for r in c.execute(sql, params)])


async def found(app: Starlette, query: str, user: int | None = None) -> list[int]:
    svc = service_of(app)
    got = await svc.db.read(lambda c: search.find(c, svc.cipher, query, user))
    return [c.id for c in got.cases]


async def test_every_query_form_finds_the_case_by_hash(settings: Settings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async with console(settings) as (app, _):
        case_id = await new_contact(app, PHONE, "Siân Jones")
        others = [await new_contact(app, f"+4477009004{n:02d}", f"Person {n}") for n in range(6)]
        svc = service_of(app)
        await svc.runtime.handle(Inbound("telegram", "123456789", "tg-1", "hello"))
        for q in ("07700 900321", PHONE, "447700900321", "(07700) 900-321", "Siân Jones",
                  "SIÂN", "jones", f"{case_id}", f"#{case_id}", f"case {case_id}"):
            assert case_id in await found(app, q), q
        for q in ("Sia", "Jones Siân", "07700 900322", ""):
            assert case_id not in await found(app, q), q
        assert await found(app, "123456789"), "the telegram chat id"
        # only the rows a hash matched are opened, however many people there are
        opened: list[str] = []
        real_open = svc.cipher.open
        monkeypatch.setattr(svc.cipher, "open", lambda b, c="": opened.append(c) or real_open(b, c))
        for q, most in (("07700 900321", 1), ("Siân Jones", 0), (f"case {others[0]}", 0)):
            opened.clear()
            assert await found(app, q)
            assert len(opened) <= most, (q, opened)
        plan = await svc.db.read(lambda c: " ".join(str(r[3]) for r in c.execute(
            "EXPLAIN QUERY PLAN SELECT person_id FROM search_tokens WHERE kind = 'name'"
            " AND token_hash IN (?, ?)", (b"x", b"y"))))
        assert "SEARCH" in plan and "SCAN" not in plan, plan


async def test_the_name_index_is_backfilled_and_forgotten_on_erasure(settings: Settings) -> None:
    async with console(settings) as (app, client):
        case_id = await new_contact(app, PHONE, "Robin Hood")
        svc = service_of(app)
        await svc.db.write(lambda c: c.execute("DELETE FROM search_tokens"))
        assert await found(app, "robin") == []
        assert await svc.db.write(lambda c: search.backfill(c, svc.cipher, force=True)) >= 1
        assert await found(app, "robin") == [case_id]
        await add_user(app, SUE, "Sue Super", supervisor=True)
        await login(client, SUE)
        done = await post(client, f"/console/cases/{case_id}/erase", {"confirm": "yes"},
                          page=f"/console/cases/{case_id}")
        assert done.status_code == 303
        assert await rows(app, "SELECT * FROM search_tokens") == []
        assert await found(app, "robin") == [] and await found(app, PHONE) == []


async def test_search_page_only_shows_ones_own_cases_and_audits_no_query(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        sue = await add_user(app, SUE, "Sue Super", supervisor=True)
        alice = await add_user(app, ALICE, "Alice Adams")
        bob = await add_user(app, BOB, "Bob Brown")
        mine = await new_contact(app, PHONE, "Sam Jones")
        theirs = await new_contact(app, "+447700900999", "Sam Smith")
        await login(client, SUE)
        for case_id, fid in ((mine, alice), (theirs, bob)):
            assert (await post(client, f"/console/cases/{case_id}/assign",
                               {"first": str(fid)})).status_code == 303
        page = (await client.get("/console/search", params={"q": "sam"})).text
        assert f">Case {mine}<" in page and f">Case {theirs}<" in page
        await post(client, "/console/logout")
        await login(client, ALICE)
        page = (await client.get("/console/search", params={"q": "Sam"})).text
        assert f">Case {mine}<" in page and f">Case {theirs}<" not in page
        page = (await client.get("/console/search", params={"q": "+447700900999"})).text
        assert "0 cases found" in page and f">Case {theirs}<" not in page
        assert "Sam Smith" not in page
        audit = await rows(app, "SELECT actor, detail FROM audit WHERE action = 'case_search'")
        assert len(audit) == 3
        text = " ".join(r["detail"] for r in audit)
        assert "sam" not in text.lower() and "7700" not in text
        assert f"[{mine}]" in audit[1]["detail"] and '"name"' in audit[1]["detail"]
        assert sue  # the supervisor saw both above


async def test_lists_filter_and_paginate(settings: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caselists, "PAGE", 2)
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        alice = await add_user(app, ALICE, "Alice Adams")
        ids = [await new_contact(app, f"+4477009005{n:02d}", f"P{n}") for n in range(3)]
        await login(client, SUE)
        await post(client, f"/console/cases/{ids[0]}/assign", {"first": str(alice)})
        assert (await post(client, f"/console/cases/{ids[1]}/close", {"reason": "completed"},
                           page=f"/console/cases/{ids[1]}")).status_code == 303
        open_ = (await client.get("/console/cases")).text
        assert "2 cases." in open_ and f">Case {ids[1]}<" not in open_
        closed = (await client.get("/console/cases?status=closed")).text
        assert f">Case {ids[1]}<" in closed and f">Case {ids[0]}<" not in closed
        every = (await client.get("/console/cases?status=all")).text
        assert "3 cases, page 1 of 2" in every and "Next page" in every
        second = (await client.get("/console/cases?status=all&page=2")).text
        assert "Previous page" in second and second.count('href="/console/cases/') == 1
        mine = (await client.get(f"/console/cases?status=all&facilitator={alice}")).text
        assert f">Case {ids[0]}<" in mine and "1 case." in mine
        assert "0 cases" in (await client.get("/console/cases?source=referral")).text
        assert "2 cases" in (await client.get("/console/cases?source=sms")).text
        staged = (await client.get("/console/cases?status=all&stage=closed")).text
        assert "1 case." in staged and f">Case {ids[1]}<" in staged
        await post(client, "/console/logout")
        await login(client, ALICE)
        assert "1 case." in (await client.get("/console/cases?status=all")).text


async def test_reopen_a_closed_case(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        alice = await add_user(app, ALICE, "Alice Adams")
        await add_user(app, BOB, "Bob Brown")
        case_id = await new_contact(app, PHONE, "Sam")
        url = f"/console/cases/{case_id}"
        await login(client, SUE)
        await post(client, url + "/assign", {"first": str(alice)})
        await post(client, "/console/logout")
        await login(client, ALICE)
        assert (await post(client, url + "/reopen", page=url)).status_code == 409  # not closed
        await post(client, url + "/replied", page=url)
        assert (await post(client, url + "/close", {"reason": "completed"},
                           page=url)).status_code == 303
        assert "Reopen case" in (await client.get(url)).text
        assert (await client.post(url + "/reopen", data={})).status_code == 403  # no CSRF
        done = await post(client, url + "/reopen", page=url)
        assert done.status_code == 303 and "done=reopened" in done.headers["location"]
        case = (await rows(app, "SELECT stage, closed_at FROM cases WHERE id = ?", case_id))[0]
        assert case == {"stage": "reopened", "closed_at": None}
        # nothing sent: no message made by or after the reopening (the feedback survey asked
        # at closure is due at once and may have gone before it: the scheduler runs)
        assert await rows(app, "SELECT id FROM outbox WHERE created_at >= (SELECT at"
                               " FROM audit WHERE action = 'case_reopened')") == []
        pending = await rows(app, "SELECT kind FROM jobs WHERE status = 'pending'"
                             " AND person_id IS NOT NULL")
        assert pending == []  # no reply clock, no feedback survey
        assert await rows(app, "SELECT id FROM alerts WHERE kind = 'new_contact' AND"
                          " handled_at IS NULL") == []
        audit = await rows(app, "SELECT actor FROM audit WHERE action = 'case_reopened'")
        assert len(audit) == 1
        page = (await client.get(url)).text
        assert "Reopen case" not in page and "reopened" in page
        await post(client, "/console/logout")
        await login(client, BOB)  # not assigned
        assert (await post(client, url + "/close", {"reason": "completed"})).status_code == 403
        await post(client, "/console/logout")
        await login(client, SUE)
        await post(client, url + "/close", {"reason": "completed"}, page=url)
        await post(client, url + "/erase", {"confirm": "yes"}, page=url)
        assert (await post(client, url + "/reopen", page=url)).status_code == 409


async def test_simulate_reopen(settings: Settings) -> None:
    from tests.test_appointments_simulate import FIRST, query, run
    await run(settings, *FIRST, "::act close_case outcome=completed reason=done")
    with pytest.raises(Exception, match="already has an open case"):
        await run(settings, "::act reopen", "::act reopen")
    assert query(settings, "SELECT stage FROM cases") == [("reopened",)]
    assert query(settings, "SELECT count(*) FROM audit WHERE action = 'case_reopened'") == [(1,)]
