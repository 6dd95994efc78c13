"""The aiohttp transport under python-telegram-bot, against a real socket server.

What the outbox relies on: a timeout is PTB's TimedOut, a refused connection its NetworkError
(both retried), an error answer becomes PTB's own error (Forbidden: opted out), and
connections are reused rather than opened per call.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from telegram import Bot
from telegram.error import Forbidden, NetworkError, TimedOut

from bot.channels.base import Failed, Retry
from bot.channels.telegram import classify
from bot.channels.telegram_http import AiohttpRequest

TOKEN = "123456:TEST-token"
ME = {"id": 123456, "is_bot": True, "first_name": "Test", "username": "test_bot"}


class Api:
    """A tiny Bot API: canned answers per method, counts connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.forms: list[tuple[str, bytes]] = []
        self.delay = 0.0
        self.status = 200

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next((int(line.split(":", 1)[1]) for line in lines
                               if line.lower().startswith("content-length:")), 0)
                body = await reader.readexactly(length)
                method = lines[0].split(" ")[1].rsplit("/", 1)[-1]
                self.forms.append((method, body))
                await asyncio.sleep(self.delay if method != "getMe" else 0)
                writer.write(self.answer(method))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def answer(self, method: str) -> bytes:
        status, result = self.status, ME if method == "getMe" else {
            "message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "."}
        if method == "getMe":
            status = 200
        payload = json.dumps({"ok": True, "result": result} if status == 200 else {
            "ok": False, "error_code": status,
            "description": "Forbidden: bot was blocked by the user"}).encode()
        return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    fake = Api()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield fake, f"http://127.0.0.1:{port}/bot"
    server.close()


def bot_on(base: str, read_timeout: float = 2.0) -> Bot:
    return Bot(TOKEN, base_url=base, request=AiohttpRequest(read_timeout=read_timeout))


async def test_messages_go_out_over_one_reused_connection(api: tuple[Api, str]) -> None:
    fake, base = api
    async with bot_on(base) as bot:
        for n in range(5):
            sent = await bot.send_message(chat_id=42, text=f"part {n} é")
            assert sent.message_id == 7
    assert fake.connections == 1
    sends = [body for method, body in fake.forms if method == "sendMessage"]
    assert len(sends) == 5 and b"chat_id=42" in sends[0]
    assert parse_qs(sends[4].decode())["text"] == ["part 4 é"]  # form-encoded UTF-8


async def test_a_slow_answer_is_a_timeout_the_outbox_retries(api: tuple[Api, str]) -> None:
    fake, base = api
    fake.delay = 1.0
    async with bot_on(base, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(chat_id=42, text="hello")
    assert isinstance(classify(caught.value), Retry)


async def test_an_error_answer_is_ptbs_error(api: tuple[Api, str]) -> None:
    fake, base = api
    async with bot_on(base) as bot:
        fake.status = 403
        with pytest.raises(Forbidden) as caught:
            await bot.send_message(chat_id=42, text="hello")
    result = classify(caught.value)
    assert isinstance(result, Failed) and result.opted_out


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_a_transport_error_never_carries_the_url_and_its_token() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:  # aiohttp's InvalidURL says the URL
            await request.post(f"http://127.0.0.1:99999/bot{TOKEN}/getMe")
        assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    finally:
        await request.shutdown()


async def test_not_initialized_is_refused() -> None:
    with pytest.raises(NetworkError, match="not initialized"):
        await AiohttpRequest().post("http://127.0.0.1:9/bot/getMe")
