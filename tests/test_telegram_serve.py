"""End to end: `python -m bot serve` in a subprocess, Telegram pointed at the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.crypto import new_key_text
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import SECRET

ROOT = Path(__file__).resolve().parent.parent
CHAT = 90210
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def rjbot_serve(tmp_path: Path, fake: FakeBotAPI) -> AsyncIterator[str]:
    """The real command, in its own process; always stopped (then killed if it hangs)."""
    port = free_port()
    env = {**os.environ, "RJBOT_DATABASE": str(tmp_path / "serve.sqlite3"),
           "RJBOT_DATA_KEY": new_key_text(), "RJBOT_PORT": str(port),
           "RJBOT_HOST": "127.0.0.1", "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": fake.base_url,
           "TELEGRAM_MODE": "webhook"}
    log = (tmp_path / "serve.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env,
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base, proc)
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


async def wait_healthy(base: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(timeout=2) as client, asyncio.timeout(30):
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"rjbot serve exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(base + "/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


def replies(fake: FakeBotAPI) -> list[dict[str, Any]]:
    return [p for p in fake.called("sendMessage") if p["chat_id"] == str(CHAT)]


async def test_serve_answers_a_webhook_update_through_the_bot_api(tmp_path: Path) -> None:
    await serve_and_talk(tmp_path)
    log = (tmp_path / "serve.log").read_text()
    assert "channel telegram: started (webhook)" in log
    for secret in (telegram_api.TOKEN, SECRET, str(CHAT), "hello", "Sam"):
        assert secret not in log, "the log holds a token, a chat id or message text"


async def serve_and_talk(tmp_path: Path) -> None:
    async with telegram_api.running() as fake, rjbot_serve(tmp_path, fake) as base, \
            httpx.AsyncClient(base_url=base, timeout=5) as client:
        url = "/webhooks/telegram"
        update = text_update(CHAT, "hello")
        assert (await client.post(url, json=update)).status_code == 403
        bad = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert (await client.post(url, json=update, headers=bad)).status_code == 403
        await asyncio.sleep(0.5)
        assert replies(fake) == []

        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await client.post(url, json=update, headers=good)).status_code == 200
        await fake.wait_for(lambda: any("reply_markup" in p for p in replies(fake)), 15)
        keyboard = next(p for p in replies(fake) if "reply_markup" in p)["reply_markup"]
        assert keyboard["inline_keyboard"][0] == [
            {"text": "Yes, keep them like that", "callback_data": "discreet"}]
        count = len(replies(fake))

        assert (await client.post(url, json=update, headers=good)).status_code == 200
        await asyncio.sleep(1.5)  # time enough for a second reply, were one to be sent
        assert len(replies(fake)) == count == 2

        # and the conversation goes on: the next update gets the next question
        assert (await client.post(url, json=text_update(CHAT, "1"),
                                  headers=good)).status_code == 200
        await fake.wait_for(lambda: len(replies(fake)) == 3, 15)
