"""A local fake Telegram Bot API on 127.0.0.1: records every call, answers like Telegram.

python-telegram-bot POSTs form-encoded parameters to `<base_url><token>/<method>`; values
that are not plain strings (reply_markup, commands, allowed_updates, ...) are JSON-encoded.
`queue_update` feeds `getUpdates` (long polling); `fail_next` makes the next call of a
method answer with a Bot API error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.serving import serving

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "rj_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str


@dataclass
class FakeBotAPI:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages sendMessage made
    failures: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    left: list[int] = field(default_factory=list)  # chats leaveChat left
    port: int = 0
    max_poll: float = 0.3  # seconds a getUpdates long poll is held, at most
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ---- test helpers ----

    def queue_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def fail_next(self, method: str, code: int, description: str, **parameters: Any) -> None:
        self.failures.setdefault(method, []).append((code, description, parameters))

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake Bot API: condition not met; calls: {self.methods()}")
            await asyncio.sleep(0.01)

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    # ---- the API ----

    async def endpoint(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = request.path_params["method"]
        form = await request.form()
        params = {k: _decode(v) for k, v in form.items() if isinstance(v, str)}
        self.calls.append(Call(method, params, token))
        if token != TOKEN:
            return _error(401, "Unauthorized")
        queued = self.failures.get(method)
        if queued:
            code, description, parameters = queued.pop(0)
            return _error(code, description, parameters)
        handler = getattr(self, "api_" + method, None)
        if handler is None:
            return _error(404, "Not Found")
        return JSONResponse({"ok": True, "result": await handler(params)})

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "RJ test", "username": BOT_USERNAME,
                "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            wait = min(float(params.get("timeout", 0) or 0), self.max_poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), wait)
        limit = int(params.get("limit", 100) or 100)
        return self.updates[:limit]

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": int(params["chat_id"]), "type": "private"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "RJ test"},
                   "text": params["text"]}
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(message)
        return message

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_leaveChat(self, params: dict[str, Any]) -> Any:
        self.left.append(int(params["chat_id"]))
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/bot{token}/{method}", self.endpoint, methods=["POST", "GET"]),
        ])


def _decode(value: str) -> Any:
    """Values are JSON-encoded unless they are plain strings: decode what is JSON."""
    if value[:1] in ("{", "["):
        return json.loads(value)
    return value


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


@contextlib.asynccontextmanager
async def running(fake: FakeBotAPI | None = None) -> AsyncIterator[FakeBotAPI]:
    """Serve a fresh fake (or the one given) on a free 127.0.0.1 port during the block."""
    served = fake or FakeBotAPI()

    def found(port: int) -> None:
        served.port = port

    async with serving(served.app(), found):
        yield served


# ---- updates as Telegram sends them ----

_update_ids = itertools.count(1000)


def user(chat_id: int, language: str = "en") -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language}


def private_chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Test"}


def text_update(chat_id: int, text: str, update_id: int | None = None,
                chat: dict[str, Any] | None = None, kind: str = "message") -> dict[str, Any]:
    uid = next(_update_ids) if update_id is None else update_id
    return {"update_id": uid, kind: {
        "message_id": uid, "date": int(time.time()), "from": user(chat_id),
        "chat": chat or private_chat(chat_id), "text": text}}


def group(chat_id: int = -100123, kind: str = "group") -> dict[str, Any]:
    return {"id": chat_id, "type": kind, "title": "A group"}


def media_update(chat_id: int, caption: str = "") -> dict[str, Any]:
    uid = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": uid, "date": int(time.time()), "from": user(chat_id),
        "chat": private_chat(chat_id),
        "photo": [{"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}]}
    if caption:
        message["caption"] = caption
    return {"update_id": uid, "message": message}


def button_update(chat_id: int, data: str, message: dict[str, Any]) -> dict[str, Any]:
    """A press of a button on `message` (a sendMessage result the fake returned)."""
    uid = next(_update_ids)
    return {"update_id": uid, "callback_query": {
        "id": f"cq{uid}", "from": user(chat_id), "chat_instance": "ci", "data": data,
        "message": message}}
