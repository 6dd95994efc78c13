"""`rjbot telegram set-webhook`: the webhook with its secret, and the commands menu."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.fakes import telegram_api
from tests.fakes.telegram_harness import SECRET

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


async def rjbot(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_set_webhook_registers_url_secret_and_menu(tmp_path: Path) -> None:
    async with telegram_api.running() as fake:
        code, out = await rjbot({
            "RJBOT_DATABASE": str(tmp_path / "db.sqlite3"),
            "RJBOT_PUBLIC_URL": "https://rj.example.org/", "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": fake.base_url,
        }, "telegram", "set-webhook")
    assert code == 0, out
    [hook] = fake.called("setWebhook")
    assert hook["url"] == "https://rj.example.org/webhooks/telegram"
    assert hook["secret_token"] == SECRET
    assert hook["allowed_updates"] == [
        "message", "edited_message", "callback_query", "channel_post",
            "edited_channel_post", "my_chat_member"]
    assert fake.called("setMyCommands")
    assert telegram_api.TOKEN not in out and SECRET not in out


async def test_set_webhook_says_what_is_missing(tmp_path: Path) -> None:
    code, out = await rjbot({"RJBOT_DATABASE": str(tmp_path / "db.sqlite3"),
                             "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": "",
                             "RJBOT_PUBLIC_URL": ""}, "telegram", "set-webhook")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, RJBOT_PUBLIC_URL not set" in out
