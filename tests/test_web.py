"""The ASGI app starts on the embedded default and says which channels are off and why."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.routing import Match, Route

from bot.channels import telegram_routes, twilio_routes
from bot.config import Settings
from bot.console import mount as console_mount
from bot.web import create_app, home


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


def test_no_other_route_answers_a_webhook_s_path() -> None:
    """The webhooks come first in the app's routes; that changes nothing only while no other
    route matches their paths, in any method."""
    others = [Route("/", home), Route("/healthz", home), console_mount()]
    for hook in [*twilio_routes.ROUTES, *telegram_routes.ROUTES]:
        assert isinstance(hook, Route)
        for method in ("GET", "POST", "PUT", "DELETE"):
            scope = {"type": "http", "method": method, "path": hook.path, "root_path": ""}
            assert all(r.matches(scope)[0] is Match.NONE for r in others), (hook.path, method)
