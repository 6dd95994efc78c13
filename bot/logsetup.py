"""Logging set-up: RJBOT_LOG_LEVEL for rjbot's own loggers; the libraries stay quiet.

Our own log lines never carry message text, names, numbers, chat ids or tokens (tests run whole
conversations at DEBUG and look). The libraries' loggers are not ours: python-telegram-bot logs
chat ids, whole outgoing texts and the bot token at DEBUG, httpx every URL (a Bot API URL holds
the token), twilio the numbers. They stay at WARNING whatever the level, and what they do log
passes a filter that drops the arguments and the traceback's text and blanks tokens, digit runs
(numbers, chat ids) and email addresses.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LIBRARIES = ("telegram", "httpx", "httpcore", "aiohttp", "twilio", "apscheduler", "hpack",
             "asyncio", "aiosqlite", "urllib3", "uvicorn.access")
_SCRUB = (
    (re.compile(r"bot\d+:[\w-]+"), "bot<token>"),  # a Bot API URL
    (re.compile(r"\d{4,}:[\w-]{6,}"), "<token>"),  # a bare bot token
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"[0-9a-fA-F]{32,}"), "<hex>"),  # an auth token, a signature
    (re.compile(r"\+?\d[\d ()-]{4,}\d"), "<digits>"),  # phone numbers, chat ids
)


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class LibraryFilter(logging.Filter):
    """A library's record keeps its level, logger and exception type, never its data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(LIBRARIES):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: say so, keep nothing
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message += f" ({record.exc_info[0].__name__})"
        record.msg, record.args = scrub(message), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def level_of(name: str) -> int:
    """RJBOT_LOG_LEVEL's value as a logging level (Settings checks it is one of LEVELS)."""
    return int(getattr(logging, name.upper()))


def configure(level: str, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger, with the library filter; returns it (tests remove it)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(LibraryFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level_of(level))
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, level_of(level)))
    return handler
