"""The load benchmark's peers answer a real first-contact exchange (not timed).

Each peer runs as its own process, as bench/load.py runs it: the python-telegram-bot
ConversationHandler bot on PTB's run_webhook against the fake Bot API, and the Starlette +
RequestValidator TwiML bot with its state in SQLite and in memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bench import loadgen
from bench.fake_providers import FakeProviders
from bench.peers.run import PEERS, command
from bench.procs import ROOT, free_port, process

pytestmark = pytest.mark.slow
SECRET = "peer-secret"
TOKEN = "peer-twilio-token"
PUBLIC = "https://rj.example.org"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeProviders, list[tuple[str, str]]]]:
    sent: list[tuple[str, str]] = []
    fake = await FakeProviders(lambda _c, address, text, _t: sent.append((address, text))).start()
    yield fake, sent
    await fake.stop()


@pytest.fixture
def hooks() -> dict[str, loadgen.Webhook]:
    validator = RequestValidator(TOKEN)
    return {"telegram": loadgen.Webhook("telegram", "/webhooks/telegram", secret=SECRET),
            "sms": loadgen.Webhook("sms", "/webhooks/twilio/sms", public_url=PUBLIC,
                                   sign=validator.compute_signature, twiml=True)}


async def until(check: object, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


def peer(name: str, port: int, fake: FakeProviders, hook: loadgen.Webhook, tmp: Path
         ) -> list[str]:
    args = command(name, port, fake.port, hook, TOKEN, tmp)
    assert args[0] == sys.executable and Path(args[1]).is_relative_to(ROOT / "bench" / "peers")
    return args


async def test_ptb_peer_holds_the_first_contact_conversation(
        fakes: tuple[FakeProviders, list[tuple[str, str]]],
        hooks: dict[str, loadgen.Webhook], tmp_path: Path) -> None:
    fake, sent = fakes
    hook, port = hooks["telegram"], free_port()
    args = peer("ptb_conversation_handler", port, fake, hook, tmp_path)
    async with process(args, {**os.environ, "PYTHONPATH": str(ROOT)}, port, hook.path,
                       tmp_path / "ptb.log"), \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        body, headers = hook.request("10000001", "hello")
        wrong = {**headers, "X-Telegram-Bot-Api-Secret-Token": "not-it"}
        assert (await client.post(hook.path, content=body, headers=wrong)).status_code == 403
        assert not sent
        assert (await client.post(hook.path, content=body, headers=headers)).status_code == 200
        await until(lambda: len(sent) == 2)
        assert sent[0][0] == "10000001" and "automated assistant" in sent[0][1]
        assert sent[1][1].startswith("Question 1 of 6")
        body, headers = hook.request("10000001", "1")
        assert (await client.post(hook.path, content=body, headers=headers)).status_code == 200
        await until(lambda: len(sent) == 3)
        assert sent[2][1].startswith("Question 2 of 6")  # the conversation moved on


@pytest.mark.parametrize("name", ["twiml_sqlite", "twiml_memory"])
async def test_twiml_peers_hold_the_first_contact_conversation(
        name: str, fakes: tuple[FakeProviders, list[tuple[str, str]]],
        hooks: dict[str, loadgen.Webhook], tmp_path: Path) -> None:
    fake, sent = fakes
    hook, port = hooks["sms"], free_port()
    args = peer(name, port, fake, hook, tmp_path)
    assert PEERS[name][0] == "sms"
    async with process(args, {**os.environ, "PYTHONPATH": str(ROOT)}, port, hook.path,
                       tmp_path / f"{name}.log"), \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        body, headers = hook.request("+447700000001", "hello")
        forged = {**headers, "X-Twilio-Signature": "bm90IGl0"}
        assert (await client.post(hook.path, content=body, headers=forged)).status_code == 403
        first = await client.post(hook.path, content=body, headers=headers)
        assert first.status_code == 200 and first.text.count("<Message>") == 2
        assert "automated assistant" in first.text and "Question 1 of 6" in first.text
        assert "Reply 1 for Yes, keep them like that" in first.text
        body, headers = hook.request("+447700000001", "1")
        second = await client.post(hook.path, content=body, headers=headers)
        assert second.text.count("<Message>") == 1 and "Question 2 of 6" in second.text
    assert not sent  # TwiML answers in the response: nothing through the REST API
    database = tmp_path / "peer.sqlite3"
    assert database.exists() == (name == "twiml_sqlite")
    if database.exists():  # each step was committed: the state is on disk after the exit
        with sqlite3.connect(database) as conn:
            (state,), = conn.execute("SELECT state FROM conversation").fetchall()
        assert json.loads(state) == {"answer0": "hello", "answer1": "1", "turn": 2}
