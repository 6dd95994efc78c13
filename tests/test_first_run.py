"""A newcomer's first run: `rjbot serve` says where the console is and how to make the first
account, `/` leads to the console, and every command that opens the database takes --db."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot import dbarg
from bot.config import Settings
from tests.console_kit import console, login
from tests.serve_kit import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+447700900321"
PASSWORD = "a long enough secret"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any rjbot setting, the checkout's code first."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RJBOT_", "TWILIO_", "TELEGRAM_"))}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


def rjbot(*args: str, cwd: Path, stdin: str = "",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=env or clean_env(), timeout=60)


async def test_the_bare_address_leads_to_the_console(settings: Settings) -> None:
    async with console(settings) as (_, client):
        bare = await client.get("/", follow_redirects=False)
        assert bare.status_code == 302 and bare.headers["location"] == "/console/"
        landed = await client.get("/", follow_redirects=True)
        assert landed.url.path == "/console/login" and "password" in landed.text.lower()
        assert (await client.get("/healthz")).json()["status"] == "ok"


async def serve_until_healthy(cwd: Path, args: list[str], env: dict[str, str],
                              log: Path) -> asyncio.subprocess.Process:
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", *args, cwd=cwd, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        await wait_healthy(f"http://127.0.0.1:{env['RJBOT_PORT']}", proc)
        async with asyncio.timeout(10):  # the banner follows the start-up, when it listens
            while "rjbot: console at" not in log.read_text():
                await asyncio.sleep(0.05)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await asyncio.wait_for(proc.wait(), 15)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["default", "--db", "RJBOT_DATABASE"])
async def test_serve_shows_the_console_and_the_command_for_the_first_account(
        tmp_path: Path, where: str) -> None:
    served, elsewhere = tmp_path / "served", tmp_path / "elsewhere"
    served.mkdir()
    elsewhere.mkdir()
    port = str(free_port())
    env = clean_env(RJBOT_PORT=port)
    args: list[str] = []
    if where == "--db":
        args = ["--db", str(served / "my db.sqlite3")]
    elif where == "RJBOT_DATABASE":
        env["RJBOT_DATABASE"] = str(served / "env.sqlite3")
    proc = await serve_until_healthy(served, args, env, tmp_path / "first.log")
    try:
        said = (tmp_path / "first.log").read_text()
        url = f"http://127.0.0.1:{port}/console/"
        assert f"rjbot: console at {url}" in said, said
        lines = said.splitlines()
        command = lines[lines.index(next(x for x in lines if "no console account" in x)) + 1]
        argv = shlex.split(command)
        assert argv[:3] == ["rjbot", "facilitator", "add"] and "--supervisor" in argv
        assert ("--db" in argv) == (where != "default")
        # typed as printed (in the served folder for the default database, which is relative)
        made = rjbot(*argv[1:], "--password-stdin", stdin=PASSWORD + "\n",
                     cwd=served if where == "default" else elsewhere, env=clean_env())
        assert made.returncode == 0, made.stderr
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/", follow_redirects=True)).url == url + "login"
            assert (await login(client, argv[3], PASSWORD)).status_code == 200  # enrolled
            assert made.stdout.startswith("otpauth://totp/")
            assert "(supervisor)" in (await client.get("/console/")).text
    finally:
        await stop(proc)
    again = await serve_until_healthy(served, args, env, tmp_path / "second.log")
    await stop(again)
    second = (tmp_path / "second.log").read_text()
    assert f"console at {url}" in second and "no console account" not in second
    assert not (elsewhere / "data").exists()


BAD_FOLDER = [
    ["serve"], ["simulate", "--from", PHONE], ["facilitator", "add", "a@example.org",
                                              "--name", "A", "--password-stdin"],
    ["export", "--address", PHONE], ["erase", "--address", PHONE, "--yes"],
    ["audit", "verify"], ["rotate-key"],
]


@pytest.mark.parametrize("argv", BAD_FOLDER, ids=lambda a: a[0])
def test_a_database_in_a_folder_that_does_not_exist_is_a_clear_error(
        tmp_path: Path, argv: list[str]) -> None:
    missing = tmp_path / "no such folder" / "x.sqlite3"
    got = rjbot(*argv, "--db", str(missing), cwd=tmp_path, stdin=PASSWORD + "\n")
    assert got.returncode == 2, got.stderr
    assert str(missing.parent) in got.stderr and "Traceback" not in got.stderr
    from_env = rjbot(*argv, cwd=tmp_path, stdin=PASSWORD + "\n",
                     env=clean_env(RJBOT_DATABASE=str(missing)))
    if argv[0] != "simulate":  # simulate uses its own --db only, never the service's database
        assert from_env.returncode == 2 and "RJBOT_DATABASE" in from_env.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is created"


@pytest.mark.slow
def test_every_command_that_opens_the_database_takes_db(tmp_path: Path) -> None:
    db, decoy = tmp_path / "real.sqlite3", tmp_path / "decoy.sqlite3"
    env = clean_env(RJBOT_DATABASE=str(decoy))  # --db wins over RJBOT_DATABASE
    talk = rjbot("simulate", "--from", PHONE, "--db", str(db), cwd=tmp_path, env=env,
                 stdin="hello\n")
    assert talk.returncode == 0, talk.stderr
    made = rjbot("facilitator", "add", "b@example.org", "--name", "B", "--password-stdin",
                 "--db", str(db), cwd=tmp_path, env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0 and str(db) in made.stderr
    verified = rjbot("audit", "verify", "--db", str(db), cwd=tmp_path, env=env)
    assert verified.returncode == 0 and "audit ok" in verified.stdout
    assert int(verified.stdout.split("; ")[1].split()[0]) > 0  # the account's audit row
    out = tmp_path / "out"
    exported = rjbot("export", "--address", PHONE, "--out", str(out), "--db", str(db),
                     cwd=tmp_path, env=env)
    assert exported.returncode == 0 and PHONE in (out / "rjbot-export-1.json").read_text()
    assert rjbot("rotate-key", "--db", str(db), cwd=tmp_path, env=env).returncode == 0
    erased = rjbot("erase", "--address", PHONE, "--yes", "--db", str(db), cwd=tmp_path,
                   env=env)
    assert erased.returncode == 0 and "erased 1 person" in erased.stdout
    assert not decoy.exists()
    folder = rjbot("audit", "verify", "--db", str(tmp_path), cwd=tmp_path, env=env)
    assert folder.returncode == 2 and "is a folder" in folder.stderr


def test_a_database_server_url_is_not_taken_for_a_missing_folder(tmp_path: Path) -> None:
    """RJBOT_DATABASE may name a database server; only files are checked for their folder."""
    url = "postgresql://rjbot@127.0.0.1:5432/rjbot"
    for args in (argparse.Namespace(command="serve", db=url),
                 argparse.Namespace(command="serve", db=None)):
        settings = dbarg.apply(Settings(database=Path(url)), args)
        assert dbarg.problem(settings, args) == ""
    missing = argparse.Namespace(command="serve", db=str(tmp_path / "nope" / "x.sqlite3"))
    assert "does not exist" in dbarg.problem(dbarg.apply(Settings(), missing), missing)
