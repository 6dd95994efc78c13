"""Issue 17 finding 8 and deliverable 3: strong passwords, disabling a leaver's account
(command line and the supervisors' Accounts page), idle timeout 30 minutes, absolute 10 hours."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.clock import VirtualClock
from bot.config import Settings
from bot.console import auth, passwords
from bot.console.accounts import AccountError, add_facilitator, disable_facilitator
from tests.conftest import START
from tests.console_kit import PASSWORD, add_user, console, login, post, service_of

SUE, ALICE = "sue@example.org", "alice@example.org"


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "aaaaaaaaaa", "password1234", "Password1234",
                                  "qwertyuiop12", "iloveyou12345", "sue@example.org1",
                                  "short", "P@ssw0rd2024"])
async def test_weak_passwords_are_refused_for_a_supervisor(settings: Settings,
                                                           weak: str) -> None:
    with pytest.raises(AccountError):
        await add_facilitator(settings, SUE, "Sue Baker", weak, supervisor=True)


async def test_a_strong_password_is_accepted_and_signs_in(settings: Settings) -> None:
    assert passwords.problem(PASSWORD) is None
    assert passwords.problem("aaaaaaaaaaaa") is not None
    assert "common" in (passwords.problem("password1234") or "")
    assert "12 characters" in (passwords.problem("Xy7!qpL0") or "")
    assert passwords.problem("sue baker 2024", SUE, "Sue Baker") is not None  # her own name
    await add_facilitator(settings, SUE, "Sue Baker", "rumpled violet kettle drum", True)
    async with console(settings) as (_, client):
        assert (await login(client, SUE, "rumpled violet kettle drum")).status_code == 200


def another_browser(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                             base_url="http://testserver")


async def test_disable_from_the_command_line_ends_sessions_and_blocks_sign_in(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        assert (await login(client, ALICE)).status_code == 303
        assert (await client.get("/console/")).status_code == 200
        await disable_facilitator(settings, ALICE.upper())
        assert (await client.get("/console/")).status_code == 303  # signed out at once
        assert (await login(client, ALICE)).status_code == 401  # the right password no more
        with pytest.raises(AccountError, match="no account"):
            await disable_facilitator(settings, "nobody@example.org")
        rows = await service_of(app).db.read(lambda c: c.execute(
            "SELECT actor, detail FROM audit WHERE action = 'facilitator_disabled'").fetchall())
        assert [r[0] for r in rows] == ["cli"]


async def test_a_supervisor_disables_a_leaver_on_the_accounts_page(settings: Settings) -> None:
    async with console(settings) as (app, client):
        sue = await add_user(app, SUE, "Sue", supervisor=True)
        alice = await add_user(app, ALICE, "Alice")
        async with another_browser(app) as leaver:
            assert (await login(leaver, ALICE)).status_code == 303
            assert (await leaver.get("/console/accounts")).status_code == 403  # not a supervisor
            await login(client, SUE)
            page = await client.get("/console/accounts")
            assert page.status_code == 200 and "Alice" in page.text and page.text.count("<h1") == 1
            no = await post(client, f"/console/accounts/{alice}/disable", page="/console/accounts")
            assert no.status_code == 400 and (await leaver.get("/console/")).status_code == 200
            own = await post(client, f"/console/accounts/{sue}/disable", {"confirm": "yes"},
                             page="/console/accounts")
            assert own.status_code == 400
            done = await post(client, f"/console/accounts/{alice}/disable", {"confirm": "yes"},
                              page="/console/accounts")
            assert done.status_code == 303
            notice = (await client.get(done.headers["location"])).text
            assert 'id="done"' in notice and "Account disabled." in notice
            forged = await client.get("/console/accounts?done=Call+07700+900000+now")
            assert "07700" not in forged.text and 'class="notice"' not in forged.text
            assert (await leaver.get("/console/")).status_code == 303
            assert (await login(leaver, ALICE)).status_code == 401
            assert "disabled" in (await client.get("/console/accounts")).text
        actors = await service_of(app).db.read(lambda c: [r[0] for r in c.execute(
            "SELECT actor FROM audit WHERE action = 'facilitator_disabled'")])
        assert actors == [SUE]


async def test_idle_thirty_minutes_and_absolute_ten_hours(settings: Settings) -> None:
    clock = VirtualClock(START)
    async with console(settings, clock=clock) as (app, client):
        await add_user(app, ALICE, "Alice")
        await login(client, ALICE)
        clock.advance_to(START + timedelta(minutes=29))
        assert (await client.get("/console/")).status_code == 200
        clock.advance_to(START + timedelta(minutes=29 + 31))
        assert (await client.get("/console/")).status_code == 303  # idle over 30 minutes
        assert auth.IDLE_TIMEOUT == 30 * 60 and auth.SESSION_LIFETIME == 10 * 3600
        await login(client, ALICE)
        start = clock.now()
        for minutes in range(20, 600, 20):  # busy all day: a request every 20 minutes
            clock.advance_to(start + timedelta(minutes=minutes))
            assert (await client.get("/console/")).status_code == 200, minutes
        clock.advance_to(start + timedelta(hours=10, minutes=1))
        assert (await client.get("/console/")).status_code == 303  # 10 hours, then sign in
