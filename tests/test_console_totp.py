"""Issue 17 deliverable 1: a TOTP second factor for every console account, through the real
app: enrolment with a QR code at the first sign-in, a code after the password, never the same
code twice, recovery codes (hashed, one use each), a supervisor's reset (audited)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from bot.clock import VirtualClock, to_ts
from bot.config import Settings
from bot.console import signin, totp
from bot.console.accounts import add_facilitator
from tests.conftest import START
from tests.console_kit import (
    PASSWORD,
    add_user,
    console,
    csrf_of,
    enter_code,
    login,
    password_step,
    post,
    service_of,
    totp_secret,
)

SUE, ALICE = "sue@example.org", "alice@example.org"
KEY = re.compile(r"Key: <code>([A-Z2-7 ]+)</code>")
CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def key_of(html: str) -> str:
    found = KEY.search(html)
    assert found, "no key on the enrolment page"
    return found.group(1).replace(" ", "")


async def actions(app: object) -> list[str]:
    return await service_of(app).db.read(  # type: ignore[arg-type]
        lambda c: [r[0] for r in c.execute("SELECT action FROM audit ORDER BY id")])


async def test_the_first_sign_in_enrols_with_a_qr_code_and_gives_recovery_codes(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice", enrolled=False)  # an account from before 2FA
        step = await password_step(client, ALICE)
        assert step.status_code == 303 and step.headers["location"] == "/console/login/code"
        assert (await client.get("/console/")).status_code == 303  # a password is not enough
        page = await client.get("/console/login/code")
        assert page.status_code == 200 and page.text.count("<h1") == 1
        assert "<svg" in page.text and "QR code for your authenticator app" in page.text
        assert '<label for="code">' in page.text
        secret = key_of(page.text)
        wrong = await enter_code(client, ALICE, "000000")
        assert wrong.status_code == 401 and "<svg" in wrong.text
        done = await enter_code(client, ALICE, pyotp.TOTP(secret).now())
        assert done.status_code == 200 and "Your recovery codes" in done.text
        codes = CODES.findall(done.text)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert (await client.get("/console/")).status_code == 200
        stored = await service_of(app).db.read(lambda c: b"".join(
            r[0] for r in c.execute("SELECT code_hash FROM recovery_codes")))
        assert all(code.encode() not in stored for code in codes)
        secret_blob = await service_of(app).db.read(lambda c: c.execute(
            "SELECT totp_secret_enc FROM facilitators").fetchone()[0])
        assert secret.encode() not in secret_blob  # sealed
        assert (await actions(app))[-2:] == ["second_factor_enrolled", "login"]


async def test_facilitator_add_gives_the_otpauth_uri_of_the_secret_the_console_shows(
        settings: Settings) -> None:
    fid, link = await add_facilitator(settings, SUE, "Sue", PASSWORD, True)
    parsed = urlparse(link)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    query = parse_qs(parsed.query)
    assert query["issuer"] == ["RJ console"] and "sue%40example.org" in link.lower()
    async with console(settings) as (_, client):
        await password_step(client, SUE)
        page = await client.get("/console/login/code")
        assert key_of(page.text) == query["secret"][0]
        assert (await enter_code(client, SUE, pyotp.TOTP(query["secret"][0]).now())
                ).status_code == 200
    _, again = await add_facilitator(settings, SUE, "Sue", PASSWORD, True)  # a reset
    assert parse_qs(urlparse(again).query)["secret"] != query["secret"]
    assert fid > 0


async def test_a_code_is_never_accepted_twice(settings: Settings) -> None:
    clock = VirtualClock(START)
    async with console(settings, clock=clock) as (app, client):
        await add_user(app, ALICE, "Alice")
        code = pyotp.TOTP(totp_secret(ALICE)).at(to_ts(START))
        await password_step(client, ALICE)
        assert (await enter_code(client, ALICE, code)).status_code == 303
        await post(client, "/console/logout")
        await password_step(client, ALICE)
        assert (await enter_code(client, ALICE, code)).status_code == 401  # replayed
        older = pyotp.TOTP(totp_secret(ALICE)).at(to_ts(START) - 30)
        assert (await enter_code(client, ALICE, older)).status_code == 401  # older still
        newer = pyotp.TOTP(totp_secret(ALICE)).at(to_ts(START) + 30)
        assert (await enter_code(client, ALICE, newer)).status_code == 303


@pytest.mark.parametrize(("offset", "ok"), [(-60, False), (-30, True), (0, True), (30, True),
                                            (60, False)])
def test_a_small_clock_skew_is_allowed(offset: int, ok: bool) -> None:
    secret = totp.new_secret()
    now = to_ts(START) + 7
    code = pyotp.TOTP(secret).at(now + offset)
    assert (totp.matching_step(secret, code, now) is not None) is ok
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


async def test_recovery_codes_work_once_each(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, ALICE, "Alice", enrolled=False)
        await password_step(client, ALICE)
        secret = key_of((await client.get("/console/login/code")).text)
        codes = CODES.findall((await enter_code(client, ALICE, pyotp.TOTP(secret).now())).text)
        await post(client, "/console/logout")
        await password_step(client, ALICE)
        assert (await enter_code(client, ALICE, codes[3].upper())).status_code == 303
        await post(client, "/console/logout")
        await password_step(client, ALICE)
        assert (await enter_code(client, ALICE, codes[3])).status_code == 401  # used
        assert (await enter_code(client, ALICE, codes[4])).status_code == 303
        assert "recovery_code" in str(await service_of(app).db.read(lambda c: c.execute(
            "SELECT detail FROM audit WHERE action = 'login' ORDER BY id DESC").fetchone()[0]))


async def test_wrong_codes_end_the_challenge_and_a_late_code_is_refused(
        settings: Settings) -> None:
    clock = VirtualClock(START)
    async with console(settings, clock=clock) as (app, client):
        await add_user(app, ALICE, "Alice")
        await password_step(client, ALICE)
        for _ in range(signin.MOST_TRIES - 1):
            assert (await enter_code(client, ALICE, "000000")).status_code == 401
        last = await enter_code(client, ALICE, "000000")
        assert last.status_code == 401 and "sign in again" in last.text.lower()
        right = pyotp.TOTP(totp_secret(ALICE)).at(to_ts(clock.now()))
        assert (await client.get("/console/login/code")).status_code == 303  # back to login
        await password_step(client, ALICE)
        clock.advance_to(START + timedelta(minutes=6))
        late = pyotp.TOTP(totp_secret(ALICE)).at(to_ts(clock.now()))
        assert (await client.get("/console/login/code")).status_code == 303  # 5 minutes on
        token = csrf_of((await client.get("/console/login")).text)
        refused = await client.post("/console/login/code", data={"csrf": token, "code": late})
        assert refused.status_code == 401 and "sign in again" in refused.text.lower()
        assert right and (await client.get("/console/")).status_code == 303
        failed = [a for a in await actions(app) if a == "login_failed"]
        assert 1 <= len(failed) <= 2  # counted, not one row each


async def test_a_supervisor_resets_a_colleagues_second_factor(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        alice = await add_user(app, ALICE, "Alice")
        await login(client, SUE)
        page = await client.get("/console/accounts")
        assert "Reset sign-in code" in page.text
        reset = await post(client, f"/console/accounts/{alice}/second-factor",
                           {"confirm": "yes"}, page="/console/accounts")
        assert reset.status_code == 303
        rows = await service_of(app).db.read(lambda c: c.execute(
            "SELECT actor, detail FROM audit WHERE action = 'second_factor_reset'").fetchall())
        assert [(r[0], r[1]) for r in rows] == [(SUE, f'{{"facilitator":{alice}}}')]
        await post(client, "/console/logout")
        await password_step(client, ALICE)
        page = await client.get("/console/login/code")
        assert "<svg" in page.text and key_of(page.text) != totp_secret(ALICE)
        old_app = pyotp.TOTP(totp_secret(ALICE)).now()
        assert (await enter_code(client, ALICE, old_app)).status_code == 401
        assert (await enter_code(client, ALICE)).status_code == 200  # the new QR: enrolled


async def test_a_secret_copied_from_another_account_does_not_open(settings: Settings) -> None:
    """Someone with write access to the file copies their own TOTP secret into Alice's row."""
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue")
        alice = await add_user(app, ALICE, "Alice")
        await service_of(app).db.write(lambda c: c.execute(
            "UPDATE facilitators SET totp_secret_enc = (SELECT totp_secret_enc FROM"
            " facilitators WHERE email = ?) WHERE id = ?", (SUE, alice)))
        await password_step(client, ALICE)
        assert (await client.get("/console/login/code")).status_code == 303
        token = csrf_of((await client.get("/console/login")).text)
        forged = pyotp.TOTP(totp_secret(SUE)).now()
        refused = await client.post("/console/login/code", data={"csrf": token, "code": forged})
        assert refused.status_code == 401 and (await client.get("/console/")).status_code == 303
