"""`rjbot facilitator add` in a real subprocess, then signing in over HTTP with that account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.console_kit import console, login

ROOT = Path(__file__).resolve().parent.parent


def rjbot(settings: Settings, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RJBOT_DATABASE": str(settings.database),
           "RJBOT_DATA_KEY": settings.data_key, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


@pytest.mark.slow
async def test_facilitator_add_then_login_over_http(settings: Settings) -> None:
    done = rjbot(settings, "facilitator", "add", "Dana@Example.org", "--name", "Dana Lee",
                 "--supervisor", "--password-stdin", stdin="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    assert "a long enough secret" not in done.stderr + done.stdout
    uri = done.stdout.strip()  # stdout holds only the second factor's provisioning URI
    assert uri.startswith("otpauth://totp/RJ%20console:dana%40example.org?secret="), uri
    assert "otpauth" not in done.stderr
    async with console(settings) as (_, client):
        assert (await login(client, "dana@example.org", "wrong password!")).status_code == 401
        response = await login(client, "dana@example.org", "a long enough secret")
        assert response.status_code == 200 and "Your recovery codes" in response.text
        page = await client.get("/console/")
        assert page.status_code == 200 and "Dana Lee (supervisor)" in page.text
        # a password reset (the account was shared, or the old password leaked) signs the
        # account out everywhere
        reset = rjbot(settings, "facilitator", "add", "DANA@example.org", "--name", "Dana Lee",
                      "--password-stdin", stdin="another long secret\n")
        assert reset.returncode == 0, reset.stderr
        after = await client.get("/console/", follow_redirects=False)
        assert after.status_code in (302, 303) and "/console/login" in after.headers["location"]


@pytest.mark.slow
def test_facilitator_add_refuses_a_short_password_and_a_bad_email(settings: Settings) -> None:
    short = rjbot(settings, "facilitator", "add", "x@example.org", "--name", "X",
                  "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least" in short.stderr
    bad = rjbot(settings, "facilitator", "add", "not-an-email", "--name", "X",
                "--password-stdin", stdin="a long enough secret\n")
    assert bad.returncode == 2 and "valid email" in bad.stderr


@pytest.mark.slow
async def test_facilitator_disable_signs_out_and_blocks(settings: Settings) -> None:
    made = rjbot(settings, "facilitator", "add", "leaver@example.org", "--name", "Lee",
                 "--password-stdin", stdin="a long enough secret\n")
    assert made.returncode == 0, made.stderr
    weak = rjbot(settings, "facilitator", "add", "boss@example.org", "--name", "Boss",
                 "--supervisor", "--password-stdin", stdin="aaaaaaaaaaaa\n")
    assert weak.returncode == 2 and "too easy to guess" in weak.stderr
    async with console(settings) as (_, client):
        assert (await login(client, "leaver@example.org", "a long enough secret")
                ).status_code == 200  # first sign-in: enrolled, recovery codes shown
        off = rjbot(settings, "facilitator", "disable", "leaver@example.org", stdin="")
        assert off.returncode == 0 and "disabled" in off.stderr
        assert (await client.get("/console/")).status_code == 303
        assert (await login(client, "leaver@example.org", "a long enough secret")
                ).status_code == 401
        missing = rjbot(settings, "facilitator", "disable", "nobody@example.org", stdin="")
        assert missing.returncode == 1 and "no account" in missing.stderr


def test_facilitator_disable_on_a_missing_database_says_so_and_creates_nothing(
        settings: Settings, tmp_path: Path) -> None:
    typo = tmp_path / "rjbto.sqlite3"
    off = rjbot(settings, "facilitator", "disable", "leaver@example.org", "--db", str(typo),
                stdin="")
    assert off.returncode != 0 and f"there is no database at {typo}" in off.stderr
    assert not typo.exists()
