"""Issue 17 findings 1, 2 and 5: guessing is slowed, never locks the right person out, adds
only a handful of audit rows and never stores what was typed into the login form."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest

from bot.config import Settings, parse_proxies
from bot.console import auth, throttle
from tests.console_kit import PASSWORD, add_user, console, csrf_of, login, service_of

SUE = "sue@example.org"


async def audit_rows(app: object) -> list[tuple[str, str]]:
    return await service_of(app).db.read(lambda c: [  # type: ignore[arg-type]
        (r[0], r[1]) for r in c.execute("SELECT actor, action FROM audit ORDER BY id")])


def test_the_delay_grows_and_is_capped() -> None:
    assert throttle.delay(0, 0) == 0 and throttle.delay(throttle.ACCOUNT_FREE - 1, 0) == 0
    waits = [throttle.delay(n, 0) for n in range(throttle.ACCOUNT_FREE, 40)]
    assert waits == sorted(waits) and waits[0] > 0
    assert max(waits) == throttle.MAX_DELAY <= 5
    assert throttle.delay(10**6, 10**6) == throttle.MAX_DELAY
    assert [n for n in range(1, 2001) if throttle.audited(n)] == [1, 10, 100, 1000]


async def test_wrong_passwords_never_lock_out_the_right_one(settings: Settings) -> None:
    """Today 5 wrong passwords locked the right one out for 15 minutes, renewable for ever."""
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        svc = service_of(app)
        wrong = await asyncio.gather(*[auth.login(svc, SUE, f"guess {n}", "198.51.100.7")
                                       for n in range(12)])
        assert all(r.user is None for r in wrong)
        assert max(r.waited for r in wrong) == throttle.MAX_DELAY  # guessing was slowed
        started = time.monotonic()
        response = await login(client, SUE)  # the right person, another client
        assert response.status_code == 303 and response.headers["location"] == "/console/"
        # the password and the code each wait at most MAX_DELAY (plus a loaded machine's time)
        assert time.monotonic() - started < 2 * throttle.MAX_DELAY + 5
        assert (await client.get("/console/")).status_code == 200


async def test_random_emails_from_behind_a_proxy_do_not_lock_out_the_supervisor(
        settings: Settings) -> None:
    """Today 21 failed logins for random emails from 127.0.0.1 (every client behind a proxy)
    locked everyone out; now they only wait, and the supervisor gets in."""
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        svc = service_of(app)
        tried = await asyncio.gather(*[auth.login(svc, f"nobody{n}@example.org", "x",
                                                  "127.0.0.1") for n in range(25)])
        assert all(r.user is None for r in tried)
        got = await login(client, SUE)  # from 127.0.0.1 too
        assert got.status_code == 303
        actions = [a for _, a in await audit_rows(app)]
        assert actions.count("login_failed") <= 3 and actions[-1] == "login"


async def test_thirty_failed_logins_add_a_handful_of_audit_rows(settings: Settings) -> None:
    async with console(settings) as (app, _client):
        await add_user(app, SUE, "Sue", supervisor=True)
        svc = service_of(app)
        await asyncio.gather(*[auth.login(svc, SUE, f"guess {n}", f"10.0.0.{n}")
                               for n in range(30)])
        await asyncio.gather(*[auth.login(svc, f"x{n}@example.org", "pw", f"10.0.1.{n}")
                               for n in range(12)])
        rows = await audit_rows(app)
        failed = [actor for actor, action in rows if action == "login_failed"]
        assert len(failed) == 4  # the 1st and 10th of each kind
        assert failed.count(SUE) == 2
        unknown = [a for a in failed if a != SUE]
        assert all(a.startswith("unknown:") and "@" not in a for a in unknown)
        count = await svc.db.read(lambda c: c.execute(
            "SELECT count(*) FROM login_failures").fetchone()[0])
        assert count == 42  # every failure is counted


async def test_a_password_typed_as_the_email_is_never_stored(settings: Settings) -> None:
    secret = "Hunter2-my-real-password"
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue")
        assert (await login(client, secret, secret)).status_code == 401
        assert (await login(client, SUE, secret)).status_code == 401
        svc = service_of(app)
        await svc.db.checkpoint()
    raw = b"".join(p.read_bytes() for p in settings.database.parent.glob("rjbot.sqlite3*")
                   if not p.name.endswith(".key"))
    for form in (secret, secret.lower()):
        assert form.encode() not in raw


async def test_a_correct_password_removes_its_provisional_failure(settings: Settings) -> None:
    async with console(settings) as (app, _client):
        await add_user(app, SUE, "Sue", supervisor=True)
        svc = service_of(app)
        got = await auth.login(svc, SUE, PASSWORD, "10.0.0.1")
        assert got.user is not None and got.waited == 0
        left = await svc.db.read(lambda c: c.execute(
            "SELECT count(*) FROM login_failures").fetchone()[0])
        assert left == 0


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    proxies = parse_proxies("127.0.0.1, 10.0.0.0/8")
    address = throttle.client_address
    assert address("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"  # forged
    assert address("127.0.0.1", "198.51.100.1", proxies) == "198.51.100.1"
    assert address("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", proxies) == "198.51.100.1"
    assert address("127.0.0.1", "", proxies) == "127.0.0.1"
    assert address("127.0.0.1", "junk", proxies) == "127.0.0.1"
    assert address("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"
    with pytest.raises(ValueError, match="RJBOT_TRUSTED_PROXIES"):
        parse_proxies("localhost")
    assert Settings.from_env({"RJBOT_TRUSTED_PROXIES": "::1"}).trusted_proxies == \
        parse_proxies("::1")


async def forged(client: httpx.AsyncClient, email: str, origin: str) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", headers={"X-Forwarded-For": origin}, data={
        "csrf": csrf_of(page.text), "email": email, "password": "wrong"})


async def test_a_forged_forwarded_for_is_the_same_client(settings: Settings) -> None:
    """Without RJBOT_TRUSTED_PROXIES the test client (127.0.0.1) is one client whatever it
    writes in X-Forwarded-For; with it, each forwarded address is its own client."""
    for proxies, clients in (((), 1), (parse_proxies("127.0.0.1"), 3)):
        async with console(replace(settings, trusted_proxies=proxies)) as (app, client):
            for n in range(3):
                await forged(client, "x@example.org", f"198.51.100.{n}")
            found = await service_of(app).db.read(lambda c: c.execute(
                "SELECT count(DISTINCT client_hash) FROM login_failures").fetchone()[0])
            assert found == clients
            await service_of(app).db.write(lambda c: c.execute("DELETE FROM login_failures"))
