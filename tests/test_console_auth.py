"""Console accounts and sessions through the real ASGI app: redirects, CSRF, throttle, logout."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

from bot.config import Settings
from bot.console import auth
from tests.console_kit import add_user, console, csrf_of, login, new_contact, post, service_of

ALICE = "alice@example.org"


def session_cookie(client: httpx.AsyncClient) -> str:
    return client.cookies.get(auth.COOKIE, path="/console") or ""


@pytest.mark.parametrize("path", ["/console/", "/console/cases/1", "/console/referrals/new",
                                  "/console/no-such-page"])
async def test_without_a_session_everything_redirects_to_login(settings: Settings,
                                                               path: str) -> None:
    async with console(settings) as (_, client):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login"


async def test_login_page_is_public_and_has_one_h1_and_labels(settings: Settings) -> None:
    async with console(settings) as (_, client):
        page = await client.get("/console/login")
        assert page.status_code == 200
        assert page.text.count("<h1") == 1
        for field in ("email", "password"):
            assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "no-store" in page.headers["cache-control"]


async def test_login_then_dashboard_and_the_session_cookie_is_safe(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await client.get("/console/login")
        anonymous = session_cookie(client)
        response = await login(client, ALICE)
        assert response.status_code == 303 and response.headers["location"] == "/console/"
        set_cookie = response.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
        assert "Secure" not in set_cookie  # plain http in this test
        assert session_cookie(client) != anonymous  # rotated at login
        page = await client.get("/console/")
        assert page.status_code == 200
        assert page.text.count("<h1") == 1 and "Dashboard" in page.text
        stored = await service_of(app).db.read(
            lambda c: c.execute("SELECT password_hash FROM facilitators").fetchone()[0])
        assert stored.startswith("$argon2id$")


async def test_secure_cookie_when_the_public_url_is_https(settings: Settings) -> None:
    https = replace(settings, public_url="https://rj.example.org")
    async with console(https) as (app, client):
        await add_user(app, ALICE, "Alice")
        await client.get("/console/login")
        page = await client.get("/console/login")
        token = csrf_of(page.text)
        response = await client.post("/console/login", data={
            "csrf": token, "email": ALICE, "password": "correct horse battery"})
        assert "Secure" in response.headers["set-cookie"]


async def test_a_token_planted_before_login_is_not_signed_in_afterwards(
        settings: Settings) -> None:
    """Session fixation: the attacker's copy of the pre-login cookie stays anonymous."""
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await client.get("/console/login")
        planted = session_cookie(client)
        assert (await login(client, ALICE)).status_code == 303
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as attacker:
            attacker.cookies.set(auth.COOKIE, planted, path="/console")
            assert (await attacker.get("/console/")).status_code == 303


async def test_login_without_or_with_a_wrong_csrf_token_is_refused(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await client.get("/console/login")
        form = {"email": ALICE, "password": "correct horse battery"}
        assert (await client.post("/console/login", data=form)).status_code == 403
        wrong = {**form, "csrf": "0" * 64}
        assert (await client.post("/console/login", data=wrong)).status_code == 403
        assert (await client.get("/console/")).status_code == 303


async def test_a_signed_in_post_without_csrf_is_refused(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Sue", supervisor=True)
        case_id = await new_contact(app)
        await login(client, ALICE)
        refused = await client.post(f"/console/cases/{case_id}/replied")
        assert refused.status_code == 403
        stage = await service_of(app).db.read(
            lambda c: c.execute("SELECT stage FROM cases WHERE id = ?", (case_id,)).fetchone()[0])
        assert stage == "new_contact"  # nothing happened
        other_token = await client.post(f"/console/cases/{case_id}/replied",
                                        data={"csrf": "f" * 64})
        assert other_token.status_code == 403


async def test_unknown_account_fails_like_a_wrong_password(settings: Settings) -> None:
    async with console(settings) as (_, client):
        response = await login(client, "nobody@example.org")
        assert response.status_code == 401
        assert "do not match" in response.text


async def test_logout_needs_csrf_and_ends_the_session(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await login(client, ALICE)
        signed_in = session_cookie(client)
        assert (await client.post("/console/logout")).status_code == 403
        assert (await client.get("/console/")).status_code == 200
        out = await post(client, "/console/logout")
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        client.cookies.set(auth.COOKIE, signed_in, path="/console")  # replay the old cookie
        assert (await client.get("/console/")).status_code == 303


async def test_a_tampered_cookie_is_anonymous(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice")
        await login(client, ALICE)
        value = session_cookie(client)
        token, _, signature = value.rpartition(".")
        client.cookies.set(auth.COOKIE, token + "." + re.sub(r".$", "A", signature) + "x",
                           path="/console")
        assert (await client.get("/console/")).status_code == 303
