"""The ASGI app starts on the embedded default and says which channels are off and why."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.config import Settings
from bot.web import create_app


async def test_healthz_on_the_embedded_default(settings: Settings,
                                               caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings)
    with caplog.at_level(logging.INFO):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                resp = await client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["channels"]["sms"].startswith("off: TWILIO_ACCOUNT_SID")
    assert body["channels"]["telegram"].startswith("off: TELEGRAM_BOT_TOKEN")
    assert "channel sms: off" in caplog.text
