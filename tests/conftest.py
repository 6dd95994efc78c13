from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import VirtualClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.service import Service

pytest_plugins = ["tests.pg_kit"]
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning in London (GMT)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rewrite-transcripts", action="store_true",
                     help="write what the bot says now into the transcript files")


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    # RJBOT_TEST_BACKEND=postgres runs every test that takes `settings` on PostgreSQL
    url = request.getfixturevalue("pg_url") if os.environ.get("RJBOT_TEST_BACKEND") == \
        "postgres" else ""
    return Settings(database=tmp_path / "rjbot.sqlite3", database_url=url,
                    data_key=new_key_text())


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def sent() -> list[dict[str, object]]:
    return []


@pytest.fixture
async def service(settings: Settings, clock: VirtualClock,
                  sent: list[dict[str, object]]) -> AsyncIterator[Service]:
    channels = {n: ConsoleChannel(n, sent.append) for n in ("sms", "telegram")}
    svc = await Service.open(settings, clock, channels)
    try:
        yield svc
    finally:
        await svc.close()
