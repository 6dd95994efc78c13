"""Fast fake Telegram Bot API and Twilio REST API for the load benchmark (one server, both).

Runs inside the benchmark process, on the same event loop as the load generator, so a reply's
arrival is timed on the same clock as the webhook that caused it and the closed loop
(saturation) learns of it without any inter-process hop. Answers are canned JSON on raw
asyncio streams: the fakes cost far less CPU than the service they measure.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from bench import httpkit

TOKEN = "123456:BENCH-token"
ACCOUNT = "AC" + "0" * 32
OnSend = Callable[[str, str, str, float], None]  # channel, address, text, monotonic time


class FakeProviders:
    def __init__(self, on_send: OnSend) -> None:
        self.on_send = on_send
        self.calls = 0
        self._ids = itertools.count(1)
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> FakeProviders:
        self.server = await httpkit.serve(self.handle)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def handle(self, method: str, path: str, headers: dict[str, str],
                     body: bytes) -> tuple[int, bytes]:
        self.calls += 1
        form = dict(parse_qsl(body.decode()))
        if path.startswith("/bot"):
            return self._telegram(path.rsplit("/", 1)[-1], form)
        if path.startswith("/2010-04-01/Accounts/") and path.endswith("/Messages.json"):
            return self._twilio(form)
        return 404, b"{}"

    def _telegram(self, api_method: str, form: dict[str, str]) -> tuple[int, bytes]:
        if api_method == "getMe":
            return 200, json.dumps({"ok": True, "result": {
                "id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}}
            ).encode()
        if api_method != "sendMessage":
            return 200, b'{"ok": true, "result": true}'
        message_id = next(self._ids)
        self.on_send("telegram", form["chat_id"], form.get("text", ""), time.monotonic())
        return 200, json.dumps({"ok": True, "result": {
            "message_id": message_id, "date": int(time.time()),
            "chat": {"id": int(form["chat_id"]), "type": "private"}, "text": "."}}).encode()

    def _twilio(self, form: dict[str, str]) -> tuple[int, bytes]:
        sid = f"SM{next(self._ids):032d}"
        self.on_send("sms", form.get("To", ""), form.get("Body", ""), time.monotonic())
        return 201, json.dumps({"sid": sid, "status": "queued", "to": form.get("To"),
                                "account_sid": ACCOUNT}).encode()
