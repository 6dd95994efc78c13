"""End to end: `python -m bot serve` in a subprocess, SMS pointed at the fake Twilio API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.crypto import new_key_text
from tests.fakes import twilio_api
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilioAPI
from tests.test_telegram_serve import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
PERSON = "+447700900456"
pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def rjbot_serve(tmp_path: Path, fake: FakeTwilioAPI) -> AsyncIterator[str]:
    """The real command, in its own process; always stopped (then killed if it hangs)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RJBOT_DATABASE": str(tmp_path / "serve.sqlite3"),
           "RJBOT_DATA_KEY": new_key_text(), "RJBOT_PORT": str(port),
           "RJBOT_HOST": "127.0.0.1", "RJBOT_PUBLIC_URL": base,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE": fake.base_url,
           "TWILIO_SEND_RATE": "20"}
    for name in ("TELEGRAM_BOT_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"):
        env.pop(name, None)
    log = (tmp_path / "serve.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env,
        stdout=log, stderr=subprocess.STDOUT)
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


async def test_serve_answers_a_signed_sms_once_and_refuses_a_forgery(tmp_path: Path) -> None:
    async with asyncio.timeout(60), twilio_api.running() as fake, \
            rjbot_serve(tmp_path, fake) as base, \
            httpx.AsyncClient(base_url=base, timeout=5) as client:
        assert (await client.get("/healthz")).json()["channels"]["sms"] == "on"
        url = base + "/webhooks/twilio/sms"
        form = twilio_api.inbound_form(PERSON, "hello from the test")
        forged = {"X-Twilio-Signature": twilio_api.sign("0" * 32, url, form)}
        assert (await client.post(url, data=form, headers=forged)).status_code == 403
        assert (await client.post(url, data=form)).status_code == 403
        await asyncio.sleep(0.5)
        assert fake.created == []

        signed = {"X-Twilio-Signature": twilio_api.sign(AUTH_TOKEN, url, form)}
        answer = await client.post(url, data=form, headers=signed)
        assert answer.status_code == 200 and "<Response/>" in answer.text
        await fake.wait_for(lambda: len(fake.to(PERSON)) >= 2, 15)
        assert fake.to(PERSON)[-1]["body"].endswith("3. No, it is not safe")
        count = len(fake.to(PERSON))

        assert (await client.post(url, data=form, headers=signed)).status_code == 200
        await asyncio.sleep(1.5)  # time enough for another reply, were one to be sent
        assert len(fake.to(PERSON)) == count == 2

    log = (tmp_path / "serve.log").read_text()
    assert "channel sms: started" in log
    for secret in (AUTH_TOKEN, PERSON, PERSON[3:], "hello from the test"):
        assert secret not in log, "the log holds a token, a number or message text"
