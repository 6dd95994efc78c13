"""Hostile input: huge bodies, broken encodings, control characters, very long messages.

Each arrives through a real entry point (the ASGI app, the Telegram webhook with the real
python-telegram-bot talking to a fake Bot API, `rjbot simulate` as a subprocess) and must be
refused cleanly or stored and answered; nothing crashes and no SMS reply passes 3 segments.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.segments import segments
from bot.config import Settings
from bot.privacy import sealed
from tests.console_kit import console
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import telegram_settings
from tests.test_telegram_web import inbound_rows, post, replies_to, serving

ROOT = Path(__file__).resolve().parent.parent
CONTROL = "ctrl \x00\x01\x07\x08\x1b[31mred\x1b[0m\x7f\u200b\u202eevil\r end"
LONG = "A long story " * 770  # 10,010 characters
HOSTILE = ["<script>alert(1)</script>", "Robert'); DROP TABLE people;--"]


def test_the_default_body_limit_is_64_kib() -> None:
    assert Settings.from_env({}).max_body_bytes == 64 * 1024
    assert Settings.from_env({"RJBOT_MAX_BODY_BYTES": "1000"}).max_body_bytes == 1000


@pytest.mark.parametrize("path", ["/webhooks/telegram", "/webhooks/twilio/sms",
                                  "/console/login", "/console/cases/1/close"])
async def test_a_declared_oversized_body_gets_413(settings: Settings, path: str) -> None:
    async with console(replace(settings, max_body_bytes=4096)) as (_, client):
        big = await client.post(path, content=b"x" * 5000,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert big.status_code == 413
        lying = await client.post(path, content=b"x", headers={"Content-Length": "99999999"})
        assert lying.status_code == 413


async def test_a_streamed_body_is_cut_off_at_the_limit_not_read_whole(
    settings: Settings
) -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(10_000):  # 10 MiB if it were all read
            pulled += 1
            yield b"a=" + b"x" * 1022

    async with console(replace(settings, max_body_bytes=8192)) as (_, client):
        response = await client.post("/console/login", content=chunks(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert pulled < 100, f"{pulled} KiB were read before refusing"


async def test_a_body_under_the_limit_is_handled_normally(settings: Settings) -> None:
    async with console(replace(settings, max_body_bytes=4096)) as (_, client):
        page = await client.get("/console/login")
        assert page.status_code == 200
        small = await client.post("/console/login", data={"email": "a@b.c", "password": "x"})
        assert small.status_code == 403  # no CSRF token: refused, but not as too large


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


async def test_telegram_refuses_invalid_utf8_and_stores_nothing(settings: Settings,
                                                                fake: FakeBotAPI) -> None:
    body = b'{"update_id": 5, "message": {"text": "\xff\xfe\xc3\x28"}}'
    async with serving(telegram_settings(settings, fake)) as (app, client):
        assert (await post(client, None, raw=body)).status_code == 400
        assert await inbound_rows(app) == 0


@pytest.mark.parametrize("text", [CONTROL, LONG, *HOSTILE], ids=["control", "long", "html", "sql"])
async def test_telegram_stores_and_answers_odd_text(settings: Settings, fake: FakeBotAPI,
                                                    text: str) -> None:
    chat = 777100 + len(text) % 97
    async with serving(telegram_settings(settings, fake)) as (app, client):
        assert (await post(client, text_update(chat, "hello"))).status_code == 200
        await fake.wait_for(lambda: len(replies_to(fake, chat)) >= 2)
        before = len(replies_to(fake, chat))
        assert (await post(client, text_update(chat, text))).status_code == 200
        await fake.wait_for(lambda: len(replies_to(fake, chat)) > before)
        svc = app.state.service
        stored = await svc.db.read(lambda c: [
            sealed.open_in(svc.cipher, r["body_enc"], "messages", "body_enc", r) for r in c.execute(
                "SELECT id, person_id, body_enc FROM messages WHERE direction = 'in' ORDER BY id")])
        assert stored[-1] == text
        assert (await client.get("/healthz")).status_code == 200
    for sent in replies_to(fake, chat):
        assert 0 < len(sent["text"]) <= 4096


async def test_telegram_lone_surrogates_are_stored_marked_not_retried_forever(
    settings: Settings, fake: FakeBotAPI
) -> None:
    chat = 777300
    raw = json.dumps(text_update(chat, "half \ud800 a pair")).encode()  # valid JSON, bad text
    async with serving(telegram_settings(settings, fake)) as (app, client):
        assert (await post(client, None, raw=raw)).status_code == 200
        await fake.wait_for(lambda: len(replies_to(fake, chat)) >= 1)
        svc = app.state.service
        stored = await svc.db.read(lambda c: [
            sealed.open_in(svc.cipher, r["body_enc"], "messages", "body_enc", r) for r in c.execute(
                "SELECT id, person_id, body_enc FROM messages WHERE direction = 'in'")])
        assert stored == ["half ? a pair"]


def simulate(db: Path, data: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATABASE": str(db),
           "RJBOT_DATA_KEY": "", "PYTHONIOENCODING": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--channel", "sms", "--from", "+447700900555",
         "--db", str(db)], input=data, capture_output=True, cwd=ROOT, env=env, timeout=60)


def _lines(out: bytes) -> Iterator[dict[str, object]]:
    for line in out.decode().splitlines():
        yield json.loads(line)


def test_the_simulator_survives_hostile_sms(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    said = [b"hello", b"1", b"1", b"1", LONG.encode(), b"1", b"2", b"2",
            b"broken \xff\xfe\xc3\x28 bytes", CONTROL.replace("\r", "").encode(),
            *(h.encode() for h in HOSTILE), LONG.encode()]
    done = simulate(db, b"\n".join(said) + b"\n")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    out = list(_lines(done.stdout))
    texts = [str(o["text"]) for o in out if "text" in o]
    assert len(texts) >= len(said)
    for text in texts:
        assert segments(text).count <= 3, text[:200]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0] \
        == len(said)
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 1  # DROP did nothing
    conn.close()
    page = simulate(db, b"")  # the same database opens again
    assert page.returncode == 0
