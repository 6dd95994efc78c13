"""`rjbot serve` with a live-update stream open still stops promptly on SIGTERM (uvicorn waits
for open responses; the streams are told to end first) and the stream's client sees it end."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

import httpx

from bot.clock import SystemClock
from bot.config import Settings
from bot.console.auth import hash_password
from bot.service import Service
from bot.store import facilitators
from tests import console_kit
from tests.serve_kit import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
ALICE = "alice@example.org"


async def _account(settings: Settings) -> None:
    service = await Service.open(settings, SystemClock(), {})
    try:
        def unit(c: sqlite3.Connection) -> None:
            fid = facilitators.add(c, ALICE, "Alice Adams", hash_password(console_kit.PASSWORD),
                                   False, 0.0)
            console_kit.enrol(c, service, fid, ALICE)

        await service.db.write(unit)
    finally:
        await service.close()


async def test_serve_stops_promptly_with_an_open_stream(settings: Settings,
                                                        tmp_path: Path) -> None:
    await _account(settings)
    port = free_port()
    env = {**os.environ, "RJBOT_DATABASE": str(settings.database),
           "RJBOT_DATA_KEY": settings.data_key, "RJBOT_HOST": "127.0.0.1",
           "RJBOT_PORT": str(port), "PYTHONPATH": str(ROOT)}
    with (tmp_path / "serve.log").open("w") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base, proc)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            assert (await console_kit.login(client, ALICE)).status_code == 303
            async with client.stream("GET", "/console/live/dashboard/events") as events:
                assert events.headers["content-type"].startswith("text/event-stream")
                lines = events.aiter_lines()
                async with asyncio.timeout(10):
                    while (await anext(lines)) != "event: ready":
                        pass
                proc.terminate()
                started = time.monotonic()
                async with asyncio.timeout(5):
                    async for _ in lines:  # the server ends the stream
                        pass
                await asyncio.wait_for(proc.wait(), 5)
                assert time.monotonic() - started < 5
        # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught
        assert proc.returncode in (0, -15), proc.returncode
        assert "Application shutdown complete" in (tmp_path / "serve.log").read_text()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
