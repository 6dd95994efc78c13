"""Shared helpers for the on-call tests: settings with the real fakes, audit and notice rows."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import replace
from typing import Any

from bot.config import Settings
from bot.service import Service
from tests.fakes.smtp_server import FakeSMTP
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.twilio_harness import PUBLIC_URL, twilio_settings

ONCALL = "+447700900456"
ONCALL_LOCAL = "07700 900457"  # UK local form, stored as +447700900457
ONCALL_EMAIL = "duty@rj.example.org"
SENDER = "rjbot@rj.example.org"
RISK = "I want to kill myself"


def oncall_settings(base: Settings, twilio: FakeTwilioAPI | None, smtp: FakeSMTP | None,
                    public_url: str = PUBLIC_URL, smtp_url: str = "") -> Settings:
    s = twilio_settings(base, twilio, public_url=public_url) if twilio else replace(
        base, public_url=public_url)
    if twilio is not None:
        s = replace(s, oncall_sms=(ONCALL, "+447700900457"))
    if smtp is not None:
        s = replace(s, oncall_email=(ONCALL_EMAIL,), smtp_url=smtp_url or smtp.url,
                    smtp_from=SENDER)
    return s


async def rows(service: Service, sql: str, *params: Any) -> list[dict[str, Any]]:
    def unit(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(sql, params)]

    return await service.db.read(unit)


async def audit(service: Service, prefix: str = "notice") -> list[dict[str, Any]]:
    found = await rows(service, "SELECT action, person_id, case_id, detail FROM audit"
                       " WHERE action LIKE ? ORDER BY id", prefix + "%")
    return [{**r, "detail": json.loads(r["detail"])} for r in found]


async def sent_notices(service: Service, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The notices, once `count` of them are recorded as sent (the provider hears first)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await rows(service, "SELECT * FROM notices ORDER BY id")
        if sum(n["status"] == "sent" for n in found) >= count:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} notices not sent: {[n['status'] for n in found]}")
        await asyncio.sleep(0.02)
