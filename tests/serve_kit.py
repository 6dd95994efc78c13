"""`python -m bot serve` in a subprocess with both channels on local fakes, and simulated
providers that deliver webhooks the way Twilio and Telegram do (retrying until acknowledged)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.telegram_harness import SECRET
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilioAPI

ROOT = Path(__file__).resolve().parent.parent
KEY = "q2Yx6m0X2c3kLrWbTq6l7QyI0W6t2WcQmH4zJ3b7nJk"
SMS_PATH = "/webhooks/twilio/sms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(base: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(timeout=2) as client, asyncio.timeout(30):
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"rjbot serve exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(base + "/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


@dataclass
class Served:
    """One run of the server; `base` stays the same across restarts (same port, same URL)."""

    tmp: Path
    telegram: FakeBotAPI
    twilio: FakeTwilioAPI
    port: int = field(default_factory=free_port)
    database: str = ""  # a postgresql:// URL; "" = the SQLite file below
    proc: asyncio.subprocess.Process | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        return self.tmp / "serve.sqlite3"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "RJBOT_DATABASE": self.database or str(self.db), "RJBOT_DATA_KEY": KEY,
               "RJBOT_PORT": str(self.port), "RJBOT_HOST": "127.0.0.1",
               "RJBOT_PUBLIC_URL": self.base, "PYTHONPATH": str(ROOT),
               "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE": self.twilio.base_url,
               "TWILIO_SEND_RATE": "1000", "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
               "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": self.telegram.base_url,
               "TELEGRAM_MODE": "webhook", "TELEGRAM_SEND_RATE": "1000"}
        env.pop("TWILIO_MESSAGING_SERVICE_SID", None)
        return {**env, **self.extra_env}

    async def start(self) -> None:
        with (self.tmp / "serve.log").open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", cwd=ROOT, env=self.env(),
                stdout=log, stderr=subprocess.STDOUT)
        await wait_healthy(self.base, self.proc)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), 10)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                await self.kill()


@contextlib.asynccontextmanager
async def served(tmp: Path, database: str = "", **twilio_options: Any
                 ) -> AsyncIterator[Served]:
    async with telegram_api.running() as tg, twilio_api.running(**twilio_options) as tw:
        server = Served(tmp, tg, tw, database=database)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


def sms_request(server: Served, form: dict[str, str]) -> dict[str, Any]:
    signature = twilio_api.sign(AUTH_TOKEN, server.base + SMS_PATH, form)
    return {"url": SMS_PATH, "data": form, "headers": {"X-Twilio-Signature": signature}}


def telegram_request(update: dict[str, Any]) -> dict[str, Any]:
    return {"url": "/webhooks/telegram", "json": update,
            "headers": {"X-Telegram-Bot-Api-Secret-Token": SECRET}}


async def deliver(client: httpx.AsyncClient, request: dict[str, Any],
                  seconds: float = 60.0) -> None:
    """As a provider does: post until a 2xx comes back (connection refused, 5xx: again)."""
    async with asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(httpx.TransportError):
                response = await client.post(**request)
                if response.status_code < 300:
                    return
                assert response.status_code >= 500, response.status_code  # never a 4xx
            await asyncio.sleep(0.1)
