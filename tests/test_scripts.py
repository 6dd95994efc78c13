"""The README's `bash scripts/serve.sh` as a newcomer runs it: a fresh copy of the checkout,
Debian's python3 alone on PATH (no `python`, no pip outside a venv), an empty home."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.checkout_kit import copy_checkout
from tests.serve_kit import free_port

DEBIAN_PYTHON = Path("/usr/bin/python3")
PASSWORD = "a long enough secret"


def newcomer_env(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), **extra}


def usable(python: Path) -> bool:
    """A Python 3.11+ that can make a venv (as the script needs; it says so when not)."""
    if not python.exists():
        return False
    check = "import sys, ensurepip; sys.exit(sys.version_info < (3, 11))"
    return subprocess.run([str(python), "-c", check], capture_output=True).returncode == 0


async def serve_until_banner(checkout: Path, env: dict[str, str],
                             seconds: float) -> tuple[list[str], asyncio.subprocess.Process]:
    """Run serve.sh until it prints the console URL; what it said before, and the process."""
    proc = await asyncio.create_subprocess_exec(
        "bash", "scripts/serve.sh", cwd=checkout, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    said: list[str] = []
    try:
        async with asyncio.timeout(seconds):
            while not any(line.startswith("rjbot: console at") for line in said):
                line = await proc.stdout.readline()
                if not line:
                    raise AssertionError("serve.sh ended:\n" + "\n".join(said))
                said.append(line.decode().rstrip("\n"))
    except BaseException:
        await stop(proc)
        raise
    return said, proc


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)  # serve.sh execs rjbot: its session is just the server
        await asyncio.wait_for(proc.wait(), 20)


@pytest.mark.slow
@pytest.mark.skipif(not usable(DEBIAN_PYTHON), reason="needs Debian's python3 with venv")
async def test_serve_sh_sets_up_a_venv_once_then_reuses_it(tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "rjbot")
    port = str(free_port())
    env = newcomer_env(tmp_path / "home", RJBOT_PORT=port)
    (tmp_path / "home").mkdir()
    first, proc = await serve_until_banner(checkout, env, 900)
    try:
        assert any("creating a virtual environment in .venv" in x for x in first), first
        assert any("installing rjbot into .venv" in x for x in first)
        assert any("source .venv/bin/activate" in x for x in first)
        assert first[-1] == f"rjbot: console at http://127.0.0.1:{port}/console/ " \
                            "(database data/rjbot.sqlite3)"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).json()["status"] == "ok"
        made = subprocess.run(  # the README's way to the rjbot command
            ["bash", "-c", "source .venv/bin/activate && rjbot facilitator add "
             "it@example.org --name IT --supervisor --password-stdin"], cwd=checkout,
            env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
    finally:
        await stop(proc)
    assert (checkout / ".venv" / "bin" / "rjbot").exists()
    assert (checkout / "data" / "rjbot.sqlite3").exists()

    second, proc = await serve_until_banner(checkout, env, 60)
    await stop(proc)
    assert any("using .venv" in x for x in second), second
    assert not any("installing" in x or "creating" in x for x in second)

    with (checkout / "pyproject.toml").open("a") as fh:
        fh.write("# a change to the project's metadata\n")
    third, proc = await serve_until_banner(checkout, env, 600)
    await stop(proc)
    assert any("installing rjbot into .venv" in x for x in third), third
    assert not any("creating" in x for x in third)


def test_without_venv_support_it_names_the_package_to_install(tmp_path: Path) -> None:
    """A python3 without ensurepip (Debian without python3-venv): one message, nothing made."""
    checkout = tmp_path / "rjbot"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("serve.sh", "venv.sh"):
        shutil.copy(Path(__file__).resolve().parent.parent / "scripts" / name,
                    checkout / "scripts" / name)
    fake = tmp_path / "bin"
    fake.mkdir()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    # the real interpreter, except that ensurepip cannot be imported (as Debian ships it)
    (fake / "ensurepip.py").write_text("raise ImportError('ensurepip is not installed')\n")
    (fake / "python3").write_text(
        f"#!/bin/sh\nPYTHONPATH={fake} exec {sys.executable} \"$@\"\n")
    (fake / "python3").chmod(0o755)
    got = subprocess.run(["bash", "scripts/serve.sh"], cwd=checkout, capture_output=True,
                         text=True, timeout=60, env={"PATH": f"{fake}:/usr/bin:/bin",
                                                     "HOME": str(tmp_path)})
    assert got.returncode == 1
    assert f"apt-get install python{version}-venv" in got.stderr
    assert not (checkout / ".venv").exists()
