"""What a Telegram webhook body must look like before python-telegram-bot reads it.

The secret token says the body came from Telegram; this says it is shaped like an update:
JSON no deeper than any real update (json's own recursion would otherwise end in a
RecursionError, a 500), an integer update id, and the fields we act on of the types the Bot
API gives them (a chat id an integer, a text a string), on new and edited messages alike.
Anything else is a 400 before anything is stored. The problem returned names a field, never
a value.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 24  # a real update nests about 8 deep (a reply to a message with a keyboard)
MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post")
TEXTS = ("text", "caption")


def parse(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The update and '' if the body is one, else None and what is wrong with it."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past the interpreter's limit
        return None, "not JSON"
    if too_deep(data):
        return None, "nested too deep"
    if not isinstance(data, dict) or not _integer(data.get("update_id")):
        return None, "update id"
    return data, problem(data)


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether containers nest more than `limit` deep (iterative: no recursion to exhaust)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def problem(update: dict[str, Any]) -> str:
    """'' if the parts we read have the Bot API's types, else the part that does not."""
    for kind in MESSAGES:
        if kind in update and (found := _message(update[kind])):
            return f"{kind}.{found}"
    if "callback_query" in update:
        query = update["callback_query"]
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "callback_query"
        if not isinstance(query.get("data", ""), str) or not _user(query.get("from")):
            return "callback_query"
        if "message" in query and _message(query["message"]):
            return "callback_query.message"
    return ""


def _message(message: Any) -> str:
    if not isinstance(message, dict) or not _integer(message.get("message_id")):
        return "message_id"
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _integer(chat.get("id")) or not isinstance(
            chat.get("type"), str):
        return "chat"
    if "from" in message and not _user(message["from"]):
        return "from"
    for field in TEXTS:
        if field in message and not isinstance(message[field], str):
            return field
    return ""


def _user(user: Any) -> bool:
    return isinstance(user, dict) and _integer(user.get("id")) and isinstance(
        user.get("is_bot", False), bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
